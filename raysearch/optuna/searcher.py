"""The study as a Ray Tune `Searcher`: each Tune trial is one `study.ask()`; the objective's own
calls are answered by the study (see `raysearch.optuna.broker`); how a trial ended is told to the
study as `study.optimize` tells it, with Optuna's own log lines, then the callbacks run.

Registered as method `optuna-study` (in `raysearch.search.searchers`, by name, so listing
methods does not import Ray). It is a front-end's searcher: the live study is handed
over in-process (`LIVE`, keyed by the run's mailbox name); the spec records the study's name,
directions, sampler, pruner and storage as data.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ray.tune.search import Searcher

from raysearch.optuna.broker import StudyServer
from raysearch.optuna.trial import NUMBER
from raysearch.spec.space import Space

DRIVER_ATTR = "raysearch:driver"  # system attr: the mailbox of the driver that asked the trial
_optuna_log = logging.getLogger("optuna.study.study")


@dataclass
class LiveStudy:
    """What `optimize` hands its searcher in-process: objects, not data."""

    study: Any
    callbacks: Sequence[Callable] = ()
    server: StudyServer | None = field(default=None, repr=False)


LIVE: dict[str, LiveStudy] = {}


def optuna_study(space: Space, metric: str, mode: str, seed: int | None, *, mailbox: str,
                 n_trials: int | None = None, timeout: float | None = None,
                 study: dict | None = None) -> tuple[Any, dict]:
    """An Optuna study's sampler and pruner over a define-by-run objective (the spec's
    `searcher.study` only records what the study was; the study itself is `LIVE[mailbox]`)."""
    if mailbox not in LIVE:
        raise RuntimeError("method optuna-study runs only through raysearch.optuna.optimize")
    return StudySearcher(LIVE[mailbox], mailbox, n_trials, timeout), {}


class StudySearcher(Searcher):
    def __init__(self, live: LiveStudy, mailbox: str, n_trials: int | None,
                 timeout: float | None) -> None:
        super().__init__()
        self.live, self.study = live, live.study
        self.mailbox, self.n_trials = mailbox, n_trials
        self.timeout, self.deadline = timeout, None  # the clock starts at the first ask
        self.asked = 0
        self.numbers: dict[str, int] = {}  # Tune trial id -> Optuna trial number
        self.told: dict[int, tuple] = {}
        self.lock = threading.Lock()

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict,
                              **spec: Any) -> bool:
        return True

    @property
    def server(self) -> StudyServer:
        if self.live.server is None:  # Ray is up once Tune asks for the first trial
            self.live.server = StudyServer(self.study, self.mailbox, self.end)
        return self.live.server

    def suggest(self, trial_id: str) -> dict | str | None:
        """One `study.ask()` (enqueued trials first, as in `study.optimize`), until n_trials,
        the timeout, or `study.stop()`. As in `study.optimize`, the timeout counts from when
        trials start being asked (not from Ray's start-up), so the first trial always runs."""
        if self.timeout is not None and self.deadline is None:
            self.deadline = time.monotonic() + self.timeout
        if self.study._stop_flag or (self.n_trials is not None and self.asked >= self.n_trials) \
                or (self.deadline is not None and time.monotonic() >= self.deadline):
            return Searcher.FINISHED
        server = self.server
        trial = self._ask()
        server.trials[trial.number] = trial
        self.numbers[trial_id] = trial.number
        self.asked += 1
        return {NUMBER: trial.number}

    def _ask(self) -> Any:
        """`study.ask()`, with the trial marked as this driver's in the same write that
        creates it (a driver killed while the sampler works leaves no unmarked RUNNING trial
        behind; the next call fails it)."""
        import optuna
        from optuna.trial import FrozenTrial, TrialState

        study = self.study
        study._thread_local.cached_all_trials = None  # sync storage once a trial, as ask does
        trial_id = study._pop_waiting_trial_id()  # enqueued trials first
        if trial_id is None:
            now = datetime.now()
            template = FrozenTrial(
                number=-1, state=TrialState.RUNNING, value=None, datetime_start=now,
                datetime_complete=None, params={}, distributions={}, user_attrs={},
                system_attrs={DRIVER_ATTR: self.mailbox}, intermediate_values={}, trial_id=-1)
            trial_id = study._storage.create_new_trial(study._study_id, template_trial=template)
        else:
            study._storage.set_trial_system_attr(trial_id, DRIVER_ATTR, self.mailbox)
        return optuna.Trial(study, trial_id)

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        """A trial whose process ended before its objective returned (killed, out of memory,
        a crash outside the objective) is failed, as Optuna's heartbeat would."""
        number = self.numbers.get(trial_id)
        if number is not None and number not in self.told:
            self.end(number, "FAIL", None, "the trial's Ray process ended before the objective "
                                           "returned")

    def end(self, number: int, state: str, returned: Any, message: str | None) -> tuple:
        """Tell the study how trial `number` ended; Optuna's log line; the callbacks. Returns
        (state, values, message) as the study recorded them."""
        from optuna.study._optimize import _log_failed_trial
        from optuna.study._tell import _tell_with_warning
        from optuna.trial import TrialState

        with self.lock:
            if number in self.told:
                return self.told[number]
            trial = self.server.trials[number]
            told_state, values, warning = _tell_with_warning(
                self.study, trial, value_or_values=returned if state == "COMPLETE" else None,
                state=None if state == "COMPLETE" else TrialState[state], suppress_warning=True)
            if told_state == TrialState.COMPLETE:
                self.study._log_completed_trial(values, number, trial.params)
            elif told_state == TrialState.PRUNED:
                _optuna_log.info(f"Trial {number} pruned. {message or ''}")
            else:
                message = message or warning
                _log_failed_trial(number, trial.params, message, value_or_values=returned)
            self.told[number] = (told_state.name, values, message)
            frozen = self.study._storage.get_trial(trial._trial_id)
        for callback in self.live.callbacks:
            callback(self.study, copy.deepcopy(frozen))
        return self.told[number]

    def __getstate__(self) -> dict:
        """Tune pickles its search algorithm into `tuner.pkl`: the live study (and its lock)
        stays in this process, found again by mailbox name."""
        state = dict(self.__dict__)
        for live in ("live", "study", "lock"):
            state.pop(live, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.live = LIVE.get(self.mailbox) or LiveStudy(None)
        self.study, self.lock = self.live.study, threading.Lock()

    def save(self, checkpoint_path: str) -> None:
        """The study keeps its own state (its storage); Tune's copy only says which it was."""
        with open(checkpoint_path, "w") as f:
            json.dump({"study": self.study.study_name, "asked": self.asked}, f)

    def restore(self, checkpoint_path: str) -> None:
        pass
