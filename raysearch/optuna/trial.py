"""The objective's side, in a Ray trial: an `optuna.trial.BaseTrial` whose every call is answered
by the driver's study, and the Ray Tune function that runs the objective with it.

Each `trial.report(value, step)` is also a Ray Tune result (the run folder's history holds every
intermediate value); the objective's return value is the last one, marked with how the trial
ended, which the driver's `StudySearcher` tells the study.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import optuna
from optuna.trial import BaseTrial

from raysearch.optuna.broker import caller
from raysearch.results import STOPPED_EARLY

NUMBER = "optuna_trial"  # the trial's number, the only key of its Ray Tune config
INTERMEDIATE = "intermediate_value"  # each trial.report(value, step), with `step`
STATE = "optuna_state"  # COMPLETE / PRUNED / FAIL on the last result
ERROR = "optuna_error"


def value_keys(n_objectives: int) -> list[str]:
    """Result keys of the objective's value(s): `value`, or `values_0`, `values_1`, ..."""
    return ["value"] if n_objectives == 1 else [f"values_{i}" for i in range(n_objectives)]


class RemoteTrial(BaseTrial):
    """`optuna.Trial` for an objective running away from its study (calls go to the driver)."""

    def __init__(self, number: int, call: Callable, n_objectives: int,
                 report: Callable[[dict], None], config: dict | None = None) -> None:
        self._number = number
        self._call = call
        self._n_objectives = n_objectives
        self._report = report
        self._config = config if config is not None else {}
        self.study = RemoteStudy(number, call)

    def _remote(self, attribute: str, *args: Any, **kwargs: Any) -> Any:
        return self._call(self._number, "trial", attribute, args, kwargs)

    def _suggested(self, name: str, value: Any) -> Any:
        """Ray Tune's config of this trial (what its results and the run folder record) grows
        with each parameter the objective asks for."""
        self._config[name] = value
        return value

    # suggestions: answered by the study's sampler, on the driver
    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        return self._suggested(name, self._remote("suggest_float", name, low, high, step=step, log=log))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        return self._suggested(name, self._remote("suggest_int", name, low, high, step=step, log=log))

    def suggest_categorical(self, name: str, choices: Sequence) -> Any:
        return self._suggested(name, self._remote("suggest_categorical", name, choices))

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        return self._suggested(name, self._remote("suggest_uniform", name, low, high))

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        return self._suggested(name, self._remote("suggest_loguniform", name, low, high))

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        return self._suggested(name, self._remote("suggest_discrete_uniform", name, low, high, q))

    # intermediate values and pruning: the study's pruner decides, on the driver
    def report(self, value: float, step: int) -> None:
        self._remote("report", value, step)  # Optuna refuses it for several objectives
        self._report({INTERMEDIATE: float(value), "step": step})

    def should_prune(self) -> bool:
        return self._remote("should_prune")

    def set_user_attr(self, key: str, value: Any) -> None:
        self._remote("set_user_attr", key, value)

    def set_system_attr(self, key: str, value: Any) -> None:
        self._remote("set_system_attr", key, value)

    def set_constraint(self, constraint: Sequence[float]) -> None:
        self._remote("set_constraint", constraint)

    @property
    def number(self) -> int:
        return self._number

    @property
    def params(self) -> dict[str, Any]:
        return self._remote("params")

    @property
    def distributions(self) -> dict:
        return self._remote("distributions")

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self._remote("user_attrs")

    @property
    def system_attrs(self) -> dict[str, Any]:
        return self._remote("system_attrs")

    @property
    def datetime_start(self) -> datetime | None:
        return self._remote("datetime_start")

    @property
    def relative_params(self) -> dict[str, Any]:
        return self._remote("relative_params")

    @property
    def constraints(self) -> Any:
        return self._remote("constraints")


class RemoteStudy:
    """`trial.study` inside a Ray trial: what an objective reads or calls on its study."""

    def __init__(self, number: int, call: Callable) -> None:
        self._number, self._call = number, call

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        if self._call(self._number, "callable", attribute):
            return lambda *args, **kwargs: self._call(self._number, "study", attribute, args,
                                                      kwargs)
        return self._call(self._number, "study", attribute)


def objective_trainable(objective: Callable, mailbox: str, n_objectives: int) -> Callable:
    """The Ray Tune function that runs `objective` on a `RemoteTrial` for its config's trial;
    the driver tells the study how it ended (as `study.optimize` does: pruned, failed, or the
    returned value(s), which the study judges)."""

    def run_objective(config: dict) -> None:
        from ray import tune

        number = int(config[NUMBER])
        call = caller(mailbox)
        node = node_id()
        trial = RemoteTrial(number, call, n_objectives,
                            lambda result: tune.report({**result, "node_id": node}), config)
        try:
            returned = objective(trial)
        except optuna.TrialPruned as exc:
            call(number, "end", "", ("PRUNED", None, str(exc)))
            # no `value`: a pruned trial never competes for the best (as in the study); its
            # intermediate values are its history
            tune.report({STATE: "PRUNED", STOPPED_EARLY: True, "node_id": node})
            return
        except Exception as exc:  # the study records FAIL; Ray records the traceback
            call(number, "end", "", ("FAIL", None, repr(exc)))
            raise
        state, values, message = call(number, "end", "", ("COMPLETE", returned, None))
        if state == "FAIL":  # a value the study refused (NaN, wrong count, not a number)
            raise ValueError(message)
        tune.report({STATE: state, "node_id": node,
                     **dict(zip(value_keys(n_objectives), values, strict=True))})

    # the run folder records the user's objective, not this wrapper
    run_objective.__module__ = getattr(objective, "__module__", __name__)
    run_objective.__name__ = getattr(objective, "__name__", "objective")
    run_objective.__qualname__ = getattr(objective, "__qualname__", run_objective.__name__)
    return run_objective


def node_id() -> str:
    """Where the trial ran (several Ray nodes can share one IP)."""
    import ray

    return ray.get_runtime_context().get_node_id()
