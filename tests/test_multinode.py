"""On a real 2-node Ray cluster (tests/cluster_scenarios.py): trials spread over nodes, an
Optuna objective's trials too, PBT
exploits across nodes, and removing a worker node mid-sweep loses no trial."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import raysearch
from tests.cluster_scenarios import crossed_exploits
from tests.conftest import ROOT

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> dict:
    storage = tmp_path_factory.mktemp("cluster-runs")
    proc = subprocess.run([sys.executable, "-m", "tests.cluster_scenarios", str(storage)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def test_trials_run_on_more_than_one_node(scenarios):
    trials = raysearch.load(scenarios["spread"]).trials.to_pylist()
    assert len(trials) == 4 and all(t["status"] == "completed" for t in trials)
    assert {t["node"] for t in trials} == {scenarios["head"], scenarios["worker"]}


def test_an_optuna_objective_runs_on_both_nodes(scenarios):
    states = {number: (state, value) for number, state, value in scenarios["optuna_trials"]}
    assert sorted(states) == [0, 1, 2, 3] and all(s == "COMPLETE" for s, _ in states.values())
    trials = raysearch.load(scenarios["optuna"]).trials.to_pylist()
    assert {t["config.optuna_trial"]: t["final.value"] for t in trials} == \
        {n: v for n, (_, v) in states.items()}
    assert {t["node"] for t in trials} == {scenarios["head"], scenarios["worker"]}


def test_pbt_exploits_across_nodes(scenarios):
    history = raysearch.load(scenarios["pbt"]).history.to_pylist()
    crossed = crossed_exploits(history)
    assert crossed, "no trial continued on one node from a checkpoint written on another"
    for row in crossed:  # the copy went on from the donor's epoch, not from scratch
        assert row["epoch"] > 1


def test_removing_a_worker_node_loses_no_trial(scenarios):
    assert "removed_at" in scenarios, "the worker node was never removed"
    result = raysearch.load(scenarios["kill"])
    trials = result.trials.to_pylist()
    assert len(trials) == 2 and all(t["status"] == "completed" for t in trials)
    assert all(t["iterations"] == 150 for t in trials)
    history = result.history.to_pylist()
    moved = []
    for trial in trials:
        rows = sorted((r for r in history if r["trial_id"] == trial["trial_id"]),
                      key=lambda r: r["iteration"])
        assert [r["epoch"] for r in rows] == list(range(1, 151))  # nothing lost, nothing redone
        nodes = [r["node"] for r in rows]
        if scenarios["worker"] in nodes:
            assert nodes[-1] == scenarios["head"]  # it finished on the surviving node
            resumed = [r for r in rows if r.get("restored_from") == trial["trial_id"]]
            assert resumed and resumed[0]["epoch"] > 1  # from its checkpoint, not from scratch
            moved.append(trial["trial_id"])
    assert moved
