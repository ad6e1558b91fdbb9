"""The final record is true: how each trial ended, its own checkpoint, the best checkpoint of
the best result's lineage, and PBT's lineage for any trainable. Ray Tune's own `pbt_function`
example runs unchanged (from the installed ray package)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import raysearch
from tests.conftest import digits_spec

pytestmark = pytest.mark.usefixtures("ray_session")


def pbt_function_path() -> Path:
    import ray.tune

    return Path(ray.tune.__file__).parent / "examples" / "pbt_function.py"


MAX_T = 1000  # ~3x the iterations a trial of this example took to end itself (260-360)


@pytest.mark.slow
def test_rays_pbt_function_example_runs_unchanged_and_is_recorded_truly(storage):
    result = raysearch.run({
        "trainable": f"{pbt_function_path()}:pbt_function", "method": "random", "run_cap": 4,
        "metric": {"name": "mean_accuracy", "goal": "maximize"},
        # all four at once: Tune's PBT exploits only while two or more trials are live. The
        # last trial left alone keeps its lr: a bad one never reaches `done` (seen: 200k
        # iterations, and a CI run that hung here), so `max_t` ends it, as completed
        "resources": {"cpu": 0.5},
        "parameters": {"lr": {"value": 0.0001}, "some_other_factor": {"value": 1},
                       "checkpoint_interval": {"value": 5}},
        "scheduler": {"type": "pbt", "perturbation_interval": 5, "max_t": MAX_T,
                      "hyperparam_mutations": {"lr": {"min": 0.0001, "max": 0.02},
                                               "some_other_factor": {"values": [1, 2]}}},
        "seed": 0}, storage=storage, quiet=True)
    trials = result.trials.to_pylist()
    history = result.history.to_pylist()
    # a trial that ended by its own `done: True` is completed, not "stopped early", and so is
    # one stopped at `max_t`: the spec's full length
    def ended_itself(trial: dict) -> bool:
        return max(r["mean_accuracy"] for r in history if r["trial_id"] == trial["trial_id"]) > 200

    for t in trials:
        assert t["status"] == "completed", t
        assert ended_itself(t) or t["iterations"] == MAX_T, t
    assert max(t["iterations"] for t in trials) <= MAX_T
    assert sum(map(ended_itself, trials)) >= 3  # only the last one alone can miss its `done`
    # each trial's checkpoint is its own, never the donor's it was exploited from
    for t in trials:
        assert f"/trial_{t['trial_id']}/" in t["checkpoint"], t
    # PBT's lineage, from what Tune restored (the function reports nothing about it)
    exploits = [r for r in history if r["restored_from"] not in (None, r["trial_id"])]
    assert exploits and {r["restored_from"] for r in exploits} <= {t["trial_id"] for t in trials}
    for row in exploits:
        donor = [r for r in history if r["trial_id"] == row["restored_from"]
                 and r["iteration"] == row["iteration"] - 1 and r["timestamp"] < row["timestamp"]]
        assert donor, row  # it continued from the donor's iteration
        donor = max(donor, key=lambda r: r["timestamp"])
        mutated = {k for k in ("config.lr", "config.some_other_factor") if row[k] != donor[k]}
        assert mutated, (row, donor)  # with a config mutated from the donor's
        assert row["generation"] >= 1  # a new lineage of the exploiting trial
    # rewinding to a donor's iteration drops none of the exploiter's earlier results
    keys = [(r["trial_id"], r["iteration"], r["generation"]) for r in history]
    assert len(keys) == len(set(keys))
    assert sum(r["generation"] == 0 for r in history) >= 4 * 5
    # the best result's checkpoint is the model that scored it (or the nearest earlier one of
    # its lineage): the checkpoint's own accuracy is the one recorded at that iteration
    best = result.best
    assert best.checkpoint and best.checkpoint_iteration <= best.iteration
    saved = json.loads((Path(best.checkpoint) / "checkpoint.json").read_text())
    assert saved["step"] % 5 == 0
    recorded = [r["mean_accuracy"] for r in history if r.get("checkpoint") == best.checkpoint]
    assert recorded == [pytest.approx(saved["acc"])]


def test_each_trial_keeps_the_checkpoint_of_its_best_result_besides_its_latest(storage):
    """A trial past its peak (overfitting) still has the checkpoint saved with its best result,
    however many it saved since: the test set is measured on the model that scored best."""
    def peaked(config: dict) -> None:
        import tempfile

        from ray import tune

        for step in range(1, 9):
            accuracy = (config["peak"] - abs(step - config["peak"]) / 2) / 10
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "checkpoint.json").write_text(
                    json.dumps({"step": step, "acc": accuracy}))
                tune.report({"acc": accuracy}, checkpoint=tune.Checkpoint.from_directory(folder))

    result = raysearch.run({"trainable": peaked, "method": "grid",
                            "metric": {"name": "acc", "goal": "maximize"},
                            "parameters": {"peak": {"values": [3, 5]}},
                            "checkpoint": {"every": 1, "keep": 2}}, storage=storage, quiet=True)
    best = result.best
    assert best.config["peak"] == 5 and best.iteration == 5
    assert best.checkpoint_iteration == 5  # the checkpoint saved with it, not a later one
    assert json.loads((Path(best.checkpoint) / "checkpoint.json").read_text())["step"] == 5
    for trial in result.trials.to_pylist():  # and each trial's latest, to continue from
        assert json.loads((Path(trial["checkpoint"]) / "checkpoint.json").read_text()
                          )["step"] == 8, trial
        kept = sorted(p.name for p in Path(trial["checkpoint"]).parent.glob("checkpoint_*"))
        assert len(kept) == 3, kept  # the 2 best and the latest


def test_target_and_budget_cut_trials_are_unfinished_not_running(storage):
    result = raysearch.run(digits_spec(
        run_cap=6, max_concurrent=2, metric={"name": "val_accuracy", "goal": "maximize",
                                             "target": 0.5},
        parameters={**digits_spec()["parameters"], "epochs": {"value": 30}}),
        storage=storage, quiet=True)
    statuses = [t["status"] for t in result.trials.to_pylist()]
    assert "running" not in statuses and "pending" not in statuses, statuses
    assert "unfinished" in statuses, statuses
    assert result.counts["unfinished"] == statuses.count("unfinished")


def test_scheduler_cut_is_stopped_and_full_length_is_completed(storage):
    result = raysearch.run(digits_spec(
        run_cap=4, scheduler={"type": "asha", "grace_period": 1, "max_t": 4},
        parameters={**digits_spec()["parameters"], "epochs": {"value": 4}}),
        storage=storage, quiet=True)
    for t in result.trials.to_pylist():
        assert t["status"] == ("completed" if t["iterations"] == 4 else "stopped"), t
