"""How an objective running in a Ray trial asks the driver's study: a mailbox actor and a driver
thread that answers from it.

Optuna's samplers and pruners live with the study, in the driver (the study may be in memory).
A trial's `trial.suggest_float(...)`, `trial.report(...)`, `trial.should_prune()` are sent as
(trial number, attribute, args) to `Mailbox`, an async actor with no CPU; `StudyServer`, a thread
in the driver, takes every waiting call in one round trip, runs it on the study's own
`optuna.Trial` (so every call means exactly what it means in `study.optimize`) and posts the
answer. One call is one worker->actor round trip plus the driver's long poll: nothing is pickled
but the call's arguments and its answer.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from typing import Any

POLL_S = 0.5  # how long one long poll waits for calls before the thread checks for stop


class Mailbox:
    """Calls from trials waiting for the driver, and their answers (a Ray async actor)."""

    def __init__(self) -> None:
        self._calls: asyncio.Queue = asyncio.Queue()
        self._answers: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()

    async def call(self, number: int, target: str, name: str, args: tuple, kwargs: dict) -> Any:
        """Post one call and wait for its answer: (True, value) or (False, exception)."""
        call_id = next(self._ids)
        self._answers[call_id] = asyncio.get_running_loop().create_future()
        await self._calls.put((call_id, number, target, name, args, kwargs))
        return await self._answers[call_id]

    async def take(self, wait_s: float) -> list[tuple]:
        """Every waiting call (waiting up to `wait_s` for the first)."""
        try:
            first = await asyncio.wait_for(self._calls.get(), wait_s)
        except asyncio.TimeoutError:
            return []
        calls = [first]
        while not self._calls.empty():
            calls.append(self._calls.get_nowait())
        return calls

    def answer(self, answers: list[tuple[int, bool, Any]]) -> None:
        for call_id, ok, value in answers:
            future = self._answers.pop(call_id, None)
            if future is not None and not future.done():
                future.set_result((ok, value))


class StudyServer:
    """The driver side: answers trials' calls on the study's own objects, in a thread.

    A call targets the trial ("trial": its `optuna.Trial`), the study ("study"; "callable" asks
    whether a study attribute is a method), or ends the trial ("end": `on_end(number, state,
    returned, message)` tells the study and returns what it recorded)."""

    def __init__(self, study: Any, name: str, on_end: Callable[..., Any]) -> None:
        import ray

        from raysearch.runner.session import before_ray_shutdown

        self.study = study
        self.trials: dict[int, Any] = {}  # trial number -> the study's optuna.Trial
        self.on_end = on_end
        self.mailbox = ray.remote(num_cpus=0, max_concurrency=1000)(Mailbox).options(
            name=name).remote()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="raysearch-optuna", daemon=True)
        self._thread.start()
        before_ray_shutdown(self.close)

    def _serve(self) -> None:
        import ray

        self.study._thread_local.in_optimize_loop = True  # study.stop() from an objective
        while not self._stop.is_set() and ray.is_initialized():  # never Ray's auto-init
            try:
                calls = ray.get(self.mailbox.take.remote(POLL_S))
            except Exception:  # Ray is shutting down
                return
            if calls:
                answers = [self._run(*call) for call in calls]
                try:
                    self.mailbox.answer.remote(answers)
                except Exception:  # the mailbox is killed: the sweep has ended
                    return

    def _run(self, call_id: int, number: int, target: str, name: str, args: tuple,
             kwargs: dict) -> tuple[int, bool, Any]:
        try:
            if target == "end":
                return call_id, True, self.on_end(number, *args)
            if target == "callable":
                return call_id, True, callable(getattr(self.study, name))
            value = getattr(self.study if target == "study" else self.trials[number], name)
            return call_id, True, value(*args, **kwargs) if callable(value) else value
        except Exception as exc:  # raised in the objective, as study.optimize would
            return call_id, False, exc

    def close(self) -> None:
        """Stop answering and kill the mailbox (which ends the thread's poll at once); once
        only, before Ray shuts down (runner.session.before_ray_shutdown) or after the sweep."""
        import ray

        if self._stop.is_set():
            return
        self._stop.set()
        if ray.is_initialized():  # else Ray is down, the mailbox with it: calling Ray now would
            try:  # start or join one (Ray's auto-init), and hang on a dead address
                ray.kill(self.mailbox)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self._thread.join(timeout=2 * POLL_S + 5)
        self.study._thread_local.in_optimize_loop = False


def caller(name: str) -> Callable[[int, str, str, tuple, dict], Any]:
    """In a trial: a function that runs one call on the driver and returns its answer."""
    import ray

    mailbox = ray.get_actor(name)

    def call(number: int, target: str, attribute: str, args: tuple = (),
             kwargs: dict | None = None) -> Any:
        ok, value = ray.get(mailbox.call.remote(number, target, attribute, args, kwargs or {}))
        if not ok:
            raise value
        return value

    return call
