"""Each benchmark script runs once in a tiny configuration so it cannot rot. No timing is
asserted: the figures live in BENCHMARKS.md, measured by `make bench`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.bench


def run(module: str, *args: str, timeout: int = 600) -> None:
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


def test_overhead_bench(ray_session, tmp_path):
    out = tmp_path / "overhead.json"
    run("bench.overhead", "--n", "3", "--address",
        ray_session.get_runtime_context().gcs_address, "--out", str(out))
    (row,) = json.loads(out.read_text())["runs"]
    assert row["n"] == 3 and all(row[t]["wall_s"] > 0 for t in
                                 ("raysearch", "ray_tune_defaults", "optuna_in_process"))


def test_throughput_bench(tmp_path):
    out = tmp_path / "throughput.json"
    run("bench.throughput", "--epochs", "1", "--threads", "1", "--out", str(out))
    (row,) = json.loads(out.read_text())["runs"]
    assert row["ours_epoch_s"] > 0 and row["tutorial_epoch_s"] > 0 and row["floor_epoch_s"] > 0
    assert row["val_accuracy_after"] > 0.7  # it really trained


def test_time_to_accuracy_bench(ray_session, tmp_path):
    out, png = tmp_path / "tta.json", tmp_path / "tta.png"
    run("bench.time_to_accuracy", "--budget", "15", "--epochs", "1", "--methods", "optuna",
        "raysearch random+asha", "--address", ray_session.get_runtime_context().gcs_address,
        "--out", str(out), "--plot", str(png))
    result = json.loads(out.read_text())
    assert set(result["methods"]) == {"optuna tpe+median", "raysearch random+asha"}
    for row in result["methods"].values():  # the shape of the output, not a result in time
        assert set(row) >= {"time_to_grid_best_s", "best_in_budget", "curve"}
        assert all(len(point) == 2 and 0 <= point[1] <= 1 for point in row["curve"])
    assert png.stat().st_size > 10_000


@pytest.mark.skipif(not (ROOT.parent / "shared" / "anchors" / "seed_grid.py").exists(),
                    reason="the tutorial grid anchor lives in ../shared/anchors")
def test_time_to_accuracy_runs_the_tutorial_grid_anchor(tmp_path):
    """The anchor's full grid is 8 configs; one epoch each keeps this under two minutes."""
    out = tmp_path / "tta.json"
    run("bench.time_to_accuracy", "--epochs", "1", "--methods", "grid", "--out", str(out))
    grid = json.loads(out.read_text())["methods"]["tutorial grid"]
    assert grid["best_in_budget"] > 0.75


def test_scaling_bench(tmp_path):
    out = tmp_path / "scaling.json"
    run("bench.scaling", "--trials", "2", "--epochs", "1", "--out", str(out))
    runs = json.loads(out.read_text())["runs"]
    assert [(r["max_concurrent"], r["cpu_per_trial"]) for r in runs] == [
        (1, 1), (2, 1), (4, 0.5), (2, 1)] and all(r["wall_s"] > 0 for r in runs)


def test_optuna_roundtrip_bench(ray_session, tmp_path):
    out = tmp_path / "optuna.json"
    run("bench.optuna_roundtrip", "--trials", "2", "--calls", "3", "--address",
        ray_session.get_runtime_context().gcs_address, "--out", str(out))
    result = json.loads(out.read_text())
    for way in ("raysearch_optuna", "optuna_in_process"):
        assert result[way]["trials"] == 2 and result[way]["suggest_ms_median"] > 0


def test_sklearn_search_bench(tmp_path):
    out = tmp_path / "sklearn.json"
    run("bench.sklearn_search", "--seeds", "0", "--n-iter", "2", "--epochs", "2", "--out",
        str(out))
    summary = json.loads(out.read_text())["summary"]
    assert set(summary) == {"sklearn", "raysearch", "raysearch+asha"}
    assert all(0 < row["best_score_median"] <= 1 for row in summary.values())


def test_first_result_bench(tmp_path):
    out = tmp_path / "first_result.json"
    run("bench.first_result", "--seeds", "1", "--out", str(out))
    (row,) = json.loads(out.read_text())["runs"]
    assert 0 < row["imported"] <= row["ray_started"] <= row["sweep_started"] < row["first_result"]
    assert row["first_result_training_s"] > 0
