"""Contract checks for every extension point, shipped so that your own plug-in passes the same
checks as raysearch's:

    from raysearch.testing import check_scheduler

    def test_my_scheduler(tmp_path):
        check_scheduler("my_scheduler", {"my_option": 3}, storage=str(tmp_path))

Each check validates the entry's facts and options, then runs a tiny real sweep (on the Ray
already initialised, else an embedded one) and asserts what every entry of that kind must do.
They raise AssertionError with what went wrong.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from raysearch.registry import SCHEDULERS, SEARCHERS, TRACKERS, TRAINABLES, Entry
from raysearch.types import SchedulerContext, SchedulerFacts, SearcherFacts, TrainableInfo

__all__ = ["check_searcher", "check_scheduler", "check_trainable", "check_tracker",
           "DIGITS_PARAMETERS"]

# A seconds-long real training run: the shipped MLP on scikit-learn's digits.
DIGITS_PARAMETERS = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
    "num_layers": {"values": [1, 2]}, "hidden_size": {"value": 32},
    "batch_size": {"value": 64}, "epochs": {"value": 4},
}
# What a searcher is asked to search, by distribution; it gets those it can express.
_SEARCH_SPACE = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
    "num_layers": {"distribution": "int_uniform", "min": 1, "max": 2},
    "hidden_size": {"distribution": "q_uniform", "min": 16, "max": 64, "q": 16},
    "optimizer": {"values": ["adam", "sgd"]},
    "batch_size": {"value": 64}, "epochs": {"value": 1},
}
_GRID_SPACE = {"lr": {"values": [0.01, 0.05]}, "num_layers": {"values": [1, 2]},
               "hidden_size": {"value": 32}, "batch_size": {"value": 64},
               "epochs": {"value": 1}}


def check_searcher(name: str, storage: str, options: Mapping | None = None) -> None:
    """A searcher declares facts, is seeded (same seed, same configs; another seed, other
    configs), stays inside the space, and a grid searcher runs every combination once."""
    entry = _entry(SEARCHERS, name, SearcherFacts)
    options = dict(options or {})
    assert not entry.check(options, "searcher"), entry.check(options, "searcher")
    grid = entry.facts.enumerates_grid
    space = _GRID_SPACE if grid else {
        k: v for k, v in _SEARCH_SPACE.items()
        if v.get("distribution", "categorical" if "values" in v else "constant")
        not in entry.facts.cannot_express}

    def configs(seed: int, folder: str) -> list[dict]:
        result = _run(storage, folder, method=name, seed=seed, parameters=space,
                      searcher=options, max_concurrent=1, run_cap=None if grid else 3)
        assert result.counts["errored"] == 0, _errors(result)
        rows = [{k.removeprefix("config."): v for k, v in r.items() if k.startswith("config.")}
                for r in result.trials.to_pylist()]
        return sorted(rows, key=lambda c: sorted(c.items()))

    first, again = configs(7, "a"), configs(7, "b")
    assert first == again, f"{name}: the same seed gave different configs"
    if grid:
        assert len(first) == 4 and len({str(c) for c in first}) == 4, first
        return
    assert len(first) == 3, first
    for c in first:
        assert 1e-3 <= c["lr"] <= 1e-1, c
        if "num_layers" in space:
            assert isinstance(c["num_layers"], int) and 1 <= c["num_layers"] <= 2, c
        if "hidden_size" in space:
            assert c["hidden_size"] in (16, 32, 48, 64), c
        assert c["optimizer"] in ("adam", "sgd"), c
    assert configs(8, "c") != first, f"{name}: the seed does not change the configs"


def check_scheduler(name: str, options: Mapping, storage: str) -> None:
    """A scheduler declares facts, builds a Ray TrialScheduler from a SchedulerContext, and runs
    a 4-trial sweep to the end: every trial completed (all its iterations) or stopped early,
    with checkpoints when it says it needs them."""
    from ray.tune.schedulers import TrialScheduler

    from raysearch.spec import load_spec

    entry = _entry(SCHEDULERS, name, SchedulerFacts)
    assert not entry.check(options, "scheduler"), entry.check(options, "scheduler")
    spec = _spec(run_cap=4, scheduler={"type": name, **options})
    context = load_spec(spec).scheduler_context()
    assert isinstance(context, SchedulerContext) and context.max_t == 4, context
    built = entry.build(context, **options)
    assert isinstance(built, TrialScheduler), f"{name} built {type(built).__name__}"
    result = _run(storage, name, **spec)
    rows = result.trials.to_pylist()
    assert len(rows) == 4, rows
    assert {r["status"] for r in rows} <= {"completed", "stopped"}, _errors(result)
    for r in rows:
        assert 1 <= r["iterations"] <= 4, r
        assert (r["status"] == "completed") == (r["iterations"] == 4), r
        if entry.facts.needs_checkpoints:
            assert r["checkpoint"] is not None, r
    assert result.best is not None


def check_trainable(name: str, storage: str, parameters: Mapping | None = None) -> None:
    """A trainable reports its declared metrics every epoch, checkpoints, and a crashed trial
    continues from its own checkpoint (Ray's real retry) rather than starting over."""
    entry = _entry(TRAINABLES, name, TrainableInfo)
    info = entry.facts
    assert info.metric is not None and info.metric.name in info.metrics, info
    params = {**(info.default_parameters or {}), **(parameters or {}),
              "epochs": {"value": 3}, "trainable": {"value": name},
              "marker_dir": {"value": str(Path(storage) / f"markers-{name}")}}
    Path(storage, f"markers-{name}").mkdir(parents=True, exist_ok=True)
    result = _run(storage, name, trainable=crash_once, method="random", run_cap=1,
                  parameters=params, metric=info.metric.to_dict(), max_failures=1)
    (trial,) = result.trials.to_pylist()
    assert trial["status"] == "completed", trial["error"]
    rows = sorted(result.history.to_pylist(), key=lambda r: r["iteration"])
    assert [r["iteration"] for r in rows] == [1, 2, 3], rows
    for r in rows:
        missing = set(info.metrics) - {k for k, v in r.items() if v is not None}
        assert not missing, f"{name} did not report {missing}"
    assert rows[1].get("restored_from") == trial["trial_id"], \
        f"{name}: the retried trial did not continue from its own checkpoint"
    assert trial["checkpoint"] and Path(trial["checkpoint"]).exists()


def check_tracker(name: str, options: Mapping, storage: str) -> None:
    """A tracker builds a Ray Tune callback from the sweep, and a sweep with it completes."""
    from ray.tune import Callback

    from raysearch.spec import load_spec

    entry = _entry(TRACKERS, name, type(TRACKERS.get(name).facts))
    assert not entry.check(options, f"tracking.{name}"), entry.check(options, name)
    sweep = load_spec(_spec(tracking={name: dict(options)}))
    assert isinstance(entry.build(sweep, storage, **options), Callback)
    result = _run(storage, name, run_cap=2, tracking={name: dict(options)})
    assert result.counts["completed"] == 2, _errors(result)


# ------------------------------------------------------------------ helpers


def crash_once(config: dict, checkpoint_every: int = 1) -> None:
    """Train the registered trainable `config["trainable"]` on a slice of its data; the first
    attempt stops after one (checkpointed) epoch with an error, so Ray retries the trial."""
    info = TRAINABLES.get(config["trainable"])
    function = info.function
    data = _small(info.facts.load_data)
    marker = Path(config["marker_dir"]) / "crashed"
    kwargs = {"data": data} if data is not None else {}
    if not marker.exists():
        marker.touch()
        function({**config, "epochs": 1}, checkpoint_every=1, **kwargs)
        raise RuntimeError("simulated crash after epoch 1")
    function(config, checkpoint_every=1, **kwargs)


def _small(load_data: Any) -> Any:
    from raysearch.registry import load_target

    if load_data is None:
        return None
    data = load_target(load_data)()
    if dataclasses.is_dataclass(data) and hasattr(data, "x_train"):  # the shipped ArrayDataset
        n = 1200
        data = dataclasses.replace(data, x_train=data.x_train[:n], y_train=data.y_train[:n],
                                   x_val=data.x_val[:n // 4], y_val=data.y_val[:n // 4])
    return data


def _entry(registry: Any, name: str, facts_type: type) -> Entry:
    assert name in registry, f"{name!r} is not registered; known: {registry.names()}"
    entry = registry.get(name)
    assert isinstance(entry.facts, facts_type), f"{name}: facts are {type(entry.facts)}"
    assert callable(entry.function), f"{name}: {entry.target} is not callable"
    return entry


def _spec(**fields: Any) -> dict:
    spec = {"name": "contract", "trainable": "digits_mlp", "method": "random",
            "metric": {"name": "val_accuracy", "goal": "maximize"},
            "parameters": DIGITS_PARAMETERS, "run_cap": 2, "resources": {"cpu": 1}, "seed": 0}
    spec.update(fields)
    return spec


def _run(storage: str, folder: str, **fields: Any) -> Any:
    import raysearch

    return raysearch.run(_spec(**fields), storage=str(Path(storage) / folder), quiet=True)


def _errors(result: Any) -> list:
    return [(r["trial_id"], r["status"], r.get("error")) for r in result.trials.to_pylist()]
