"""What a training function writes to its working directory (its own TensorBoard logs, a
file) lands in RUN_DIR/trial_<id>/, one trial's files in its own folder even when trials share
a reused worker (issue #16, part 6)."""

from __future__ import annotations

import glob

import pytest

import raysearch
from tests.conftest import ROOT

pytestmark = pytest.mark.ray


def test_a_trials_own_summarywriter_logs_and_files_land_in_its_folder(ray_session, storage):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = raysearch.run({
        "trainable": f"{ROOT / 'tests' / 'user_files.py'}:train", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.1, 0.2, 0.3]}}, "max_concurrent": 1},
        storage=storage, quiet=True)
    trials = result.trials.to_pylist()
    assert len(trials) == 3
    history = result.history.to_pylist()
    assert len({r["worker_pid"] for r in history}) < 3  # a reused worker ran several trials
    for trial in trials:
        folder = f"{result.path}/trial_{trial['trial_id']}"
        lr = trial["config.lr"]
        assert open(f"{folder}/notes.txt").read() == f"lr={lr}\n"
        (events,) = glob.glob(f"{folder}/runs/*/events.out.tfevents.*")
        scalars = EventAccumulator(events).Reload().Scalars("loss")
        assert [(s.step, round(s.value, 6)) for s in scalars] == \
            [(step, round(lr * (3 - step), 6)) for step in range(3)]
