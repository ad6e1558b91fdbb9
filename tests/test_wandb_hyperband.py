"""`early_terminate: {type: hyperband}` stops the runs W&B's own engine stops: the rule
(`schedulers.wandb_hyperband`) and W&B's `sweeps.hyperband_stop_runs` judge the same fixed
learning curves; then the scheduler in a real sweep."""

from __future__ import annotations

import random

import pytest
import yaml
from sweeps import RunState, SweepRun
from sweeps.hyperband_stopping import hyperband_stop_runs

from raysearch.cli import main
from schedulers.wandb_hyperband import bands, should_stop, thresholds
from tests.conftest import ROOT

CONFIGS = [
    {"type": "hyperband", "min_iter": 1},
    {"type": "hyperband", "min_iter": 2, "eta": 2},
    {"type": "hyperband", "min_iter": 1, "strict": False},
    {"type": "hyperband", "max_iter": 9, "s": 2},
    {"type": "hyperband", "max_iter": 16, "s": 3, "eta": 2, "strict": False},
    {"type": "hyperband", "min_iter": 1, "max_iter": 27, "s": 2},
]


def curves(seed: int) -> list[tuple[str, bool, list[float]]]:
    """Noisy, mostly decreasing losses of random lengths; some runs still running."""
    rng = random.Random(seed)
    out = []
    for i in range(12):
        start, rate = rng.uniform(1, 3), rng.uniform(0.02, 0.4)
        length = rng.randint(1, 20)
        loss = [start * (1 - rate) ** t + rng.gauss(0, 0.05) for t in range(length)]
        out.append((f"run{i}", rng.random() < 0.7, loss))
    return out


def ours(runs, early_terminate: dict, goal: str) -> set[str]:
    eta = early_terminate.get("eta", 3)
    band_list = bands(early_terminate.get("min_iter"), early_terminate.get("max_iter"),
                      early_terminate.get("s"), eta)
    sign = -1 if goal == "maximize" else 1
    histories = {name: [sign * v for v in loss] for name, _, loss in runs}
    limits = thresholds(list(histories.values()), band_list, eta)
    return {name for name, running, _ in runs
            if running and should_stop(histories[name], band_list, limits,
                                       early_terminate.get("strict", True))}


def theirs(runs, early_terminate: dict, goal: str) -> set[str]:
    config = {"method": "random", "metric": {"name": "loss", "goal": goal},
              "early_terminate": dict(early_terminate), "parameters": {"x": {"value": 1}}}
    sweep_runs = [SweepRun(name=name, state=RunState.running if running else RunState.finished,
                           history=[{"loss": v} for v in loss]) for name, running, loss in runs]
    return {r.name for r in hyperband_stop_runs(sweep_runs, config)}


@pytest.mark.parametrize("early_terminate", CONFIGS, ids=lambda c: str(sorted(c.items())))
@pytest.mark.parametrize("goal", ["minimize", "maximize"])
def test_the_rule_stops_what_wandbs_engine_stops(early_terminate, goal):
    stopped_somewhere = False
    for seed in range(25):
        runs = curves(seed)
        if goal == "maximize":
            runs = [(n, r, [-v for v in loss]) for n, r, loss in runs]
        expected = theirs(runs, early_terminate, goal)
        assert ours(runs, early_terminate, goal) == expected, seed
        stopped_somewhere |= bool(expected)
    assert stopped_somewhere  # the comparison covered stops, not only "keep running"


def test_bands_are_wandbs():
    assert bands(1, None, None, 3)[:5] == [1, 3, 9, 27, 81]  # no upper cap
    assert bands(2, None, None, 2)[:4] == [2, 4, 8, 16]
    assert bands(None, 27, 2, 3) == [3, 9]
    assert bands(None, 16, 3, 2) == [2, 4, 8]


@pytest.mark.usefixtures("ray_session")
def test_a_wandb_sweep_stops_trials_with_the_rule(tmp_path, capsys):
    """The W&B project's script under early_terminate, 6 trials one at a time: trials far
    behind are stopped at a band, survivors run to their own end (no cap at max_t). Which
    exact trials stop is the rule's, compared with W&B's engine above; an exact replay of a
    live sweep's decisions: replaying the recorded results, in the order they arrived, through
    the rule stops the same trials at the same iterations (one trial at a time: before
    raysearch enforced `max_concurrent` for grid/random, two overlapped and the replay's
    order was not the scheduler's)."""
    spec = yaml.safe_load((ROOT / "tests" / "wandb_project" / "sweep.yaml").read_text())
    spec.update({"program": str(ROOT / "tests" / "wandb_project" / "train.py"),
                 "run_cap": 6, "max_concurrent": 1, "seed": 1,
                 "parameters": {**spec["parameters"], "epochs": {"value": 4},
                                "learning_rate": {"values": [0.1, 0.05, 0.001, 0.0005,
                                                             0.08, 0.0002]},
                                "optimizer": {"value": "adam"}},
                 "method": "grid"})
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec))
    assert main(["run", str(tmp_path / "sweep.yaml"), "--storage", str(tmp_path / "runs"),
                 "--quiet"]) == 0
    import raysearch

    (run_dir,) = (tmp_path / "runs").iterdir()
    result = raysearch.load(str(run_dir))
    assert result.spec["scheduler"]["type"] == "wandb_hyperband"
    trials = result.trials.to_pylist()
    assert len(trials) == 6
    stopped = [t for t in trials if t["status"] == "stopped"]
    completed = [t for t in trials if t["status"] == "completed"]
    assert stopped and completed and len(stopped) + len(completed) == 6
    assert all(t["iterations"] == 4 for t in completed)  # survivors ran to their own end
    assert all(1 <= t["iterations"] < 4 for t in stopped)
    # the slowest learner is far behind at the first band: the rule stops it there
    slowest = next(t for t in trials if t["config.learning_rate"] == 0.0002)
    assert slowest["status"] == "stopped" and slowest["iterations"] == 1
    band_list, seen, replayed = bands(1, None, None, 3), {}, {}
    for row in sorted(result.history.to_pylist(), key=lambda r: r["timestamp"]):
        history = seen.setdefault(row["trial_id"], [])
        history.append(row["val_loss"])
        if should_stop(history, band_list, thresholds(list(seen.values()), band_list, 3), True):
            replayed.setdefault(row["trial_id"], len(history))
    assert {t["trial_id"]: t["iterations"] for t in stopped} == replayed
