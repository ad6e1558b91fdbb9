"""Ctrl-C and SIGTERM during a sweep: the first stops it cleanly, the second exits at once.

The first signal is handed to Ray Tune's own stop (the handler Tune installs for SIGUSR1): Tune
leaves its loop, saves the experiment state with unfinished trials still unfinished (so
`Tuner.restore` continues them), stops the trials and ends the callbacks, which flush the
tables. The pipeline then records the sweep as not finished and raises `SweepInterrupted`.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Interrupt:
    signal_number: int | None = None


_current = Interrupt()


def interrupted() -> bool:
    """Whether the sweep running in this process was asked to stop by a signal (the recorder
    then leaves its unfinished trials resumable rather than final)."""
    return _current.signal_number is not None


@contextmanager
def stop_on_signals() -> Iterator[Interrupt]:
    """Around `tuner.fit()`: record the first SIGINT/SIGTERM and ask Tune to stop."""
    global _current
    state = _current = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield state  # signal handlers can only be set from the main thread
        return

    def handle(signum: int, frame: object) -> None:
        if state.signal_number is not None:
            os._exit(128 + signum)  # a second signal: at once
        state.signal_number = signum
        tune_stop = signal.getsignal(signal.SIGUSR1)
        if callable(tune_stop):
            tune_stop(signum, frame)
        else:  # Tune's loop is not running yet: a plain interrupt
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, handle) for s in SIGNALS}
    try:
        yield state
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
