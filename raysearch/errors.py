"""raysearch's exceptions and notices. A leaf module.

`RaysearchError` is the root; `SpecError` (bad input: the CLI prints one problem per line and
exits 2), `ClusterError` (a Ray cluster that cannot run the sweep, also exit 2), `SweepFailed`
(the sweep ran and produced nothing usable, exit 1) and `SweepInterrupted` (SIGINT/SIGTERM,
exit 130/143, resumable). `RaysearchNotice` is the warning category of
behaviour-changing notices ("checkpoint.every lowered to 2 so PBT finds checkpoints").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class RaysearchError(Exception):
    """Every error raysearch raises on purpose carries a list of problems a user can act on."""

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class SpecError(RaysearchError, ValueError):
    """A sweep spec, path or flag that cannot run."""


class ClusterError(RaysearchError):
    """The Ray cluster cannot run this sweep (unreachable, too small, storage not shared)."""


class SweepFailed(RaysearchError):
    """The sweep ran but failed as a whole (the metric never reported, Tune stopped on an
    error). `result` is what the run folder holds (a `SweepResult`), when it could be read."""

    def __init__(self, problems: str | Iterable[str], result: object = None):
        super().__init__(problems)
        self.result = result


class SweepInterrupted(RaysearchError):
    """SIGINT or SIGTERM stopped the sweep cleanly: its tables are flushed, its run folder says
    not finished, and `raysearch resume RUN_DIR` continues it."""

    def __init__(self, run_dir: str, signal_number: int):
        import signal

        self.run_dir, self.signal_number = run_dir, signal_number
        self.exit_code = 128 + signal_number  # 130 for SIGINT, 143 for SIGTERM (shell convention)
        super().__init__(f"interrupted ({signal.Signals(signal_number).name}); continue with: "
                         f"raysearch resume {run_dir}")


class RaysearchNotice(UserWarning):
    """raysearch changed or ignored something in what you asked for, and says so."""


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """' (did you mean "x"?)' when a close match exists, else ''."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


def one_of(choices: Iterable[object]) -> str:
    return ", ".join(sorted(str(c) for c in choices))
