"""Each benchmark script runs once in a tiny configuration so it cannot rot. No timing is
asserted: the figures live in BENCHMARKS.md, measured by `make bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, digits_spec

pytestmark = pytest.mark.bench


def run(module: str, *args: str, timeout: int = 600) -> None:
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


def test_side_by_side_runs_each_once_per_round_in_turned_order():
    from bench.order import side_by_side

    assert list(side_by_side([7, 8, 9], ["a", "b", "c"])) == [
        (7, "a"), (7, "b"), (7, "c"), (8, "b"), (8, "c"), (8, "a"), (9, "c"), (9, "a"), (9, "b")]
    assert [n for _, n in side_by_side(range(3), ["old", "new"])] == \
        ["old", "new", "new", "old", "old", "new"]  # two: alternated


def test_overhead_bench(ray_session, tmp_path):
    out = tmp_path / "overhead.json"
    run("bench.overhead", "--n", "3", "--repeat", "1", "--address",
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


def test_race_bench(tmp_path):
    """Two contenders, one seed, a short budget: each runs in its own process (one starts its
    own embedded Ray) to a clean end, and the summary, raw events and plot come out. Nothing
    here depends on how fast the machine is: Optuna's first trial runs to its end whatever
    the budget, and the events are checked for their shape, not their times."""
    out, png = tmp_path / "race.json", tmp_path / "race.png"
    run("bench.race", "--budget", "20", "--seeds", "0", "--contenders", "optuna tpe+median",
        "raysearch bohb+asha", "--out", str(out), "--plot", str(png))
    result = json.loads(out.read_text())
    assert set(result["summary"]) == set(result["runs"]) == {"optuna tpe+median",
                                                             "raysearch bohb+asha"}
    for name, (run_,) in result["runs"].items():
        assert run_["rc"] == 0, name  # ended by itself, not killed past its budget
        assert all(0 <= t <= 20 and 0 <= acc <= 1 for t, acc in run_["events"])
        assert run_["received"] >= len(run_["events"])
        row = result["summary"][name]
        assert row["first_result_s"]["of"] == 1 and "to_0.88_s" in row
        assert "best_at_30_s" not in row  # past the budget
    assert result["runs"]["optuna tpe+median"][0]["received"] >= 5  # a whole trial's epochs
    assert png.stat().st_size > 10_000


@pytest.mark.skipif(not (ROOT.parent / "shared" / "anchors" / "seed_grid.py").exists(),
                    reason="the tutorial grid anchor lives in ../shared/anchors")
def test_race_runs_the_tutorial_grid_anchor(tmp_path):
    """The anchor's whole grid (8 configs, one epoch each: a budget it never reaches), its
    per-epoch accuracies read as it prints them. The anchor runs unchanged, on the first 10,000
    training and 1,000 test images of Fashion-MNIST (the race reuses the data folder it
    finds under --keep): a minute less than the whole set, the same lines to read."""
    keep = tmp_path / "keep"
    fashion_mnist_subset(keep / "data" / "FashionMNIST" / "raw", train=10000, test=1000)
    out = tmp_path / "race.json"
    run("bench.race", "--grid", "--epochs", "1", "--budget", "600", "--contenders",
        "--keep", str(keep), "--out", str(out))
    (grid,) = json.loads(out.read_text())["runs"]["tutorial grid (once)"]
    assert len(grid["events"]) == 8 and max(acc for _, acc in grid["events"]) > 0.75


def fashion_mnist_subset(raw: Path, train: int, test: int) -> None:
    """torchvision's raw layout (un-gzipped IDX files) holding the first `train` / `test`
    images and labels of Debian's Fashion-MNIST."""
    import struct

    from trainables.data import DEBIAN_FASHION_MNIST, read_idx

    raw.mkdir(parents=True)
    for gz in DEBIAN_FASHION_MNIST.glob("*.gz"):
        head = read_idx(gz)[:train if gz.name.startswith("train") else test]
        magic = struct.pack(">HBB", 0, 0x08, head.ndim)  # unsigned bytes, then the dims
        dims = struct.pack(f">{head.ndim}I", *head.shape)
        (raw / gz.name.removesuffix(".gz")).write_bytes(magic + dims + head.tobytes())


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
    assert 0 < row["imported"] <= row["sweep_started"] < row["first_result"] < row["returned"] \
        < row["exited"]
    assert row["first_result_training_s"] > 0


def test_driver_load_bench(tmp_path):
    out = tmp_path / "driver_load.json"
    run("bench.driver_load", "--trials", "3", "--iterations", "4", "--checkpoint-every", "2",
        "--cpus", "2", "--repeat", "1", "--flush-rows", "1000", "--out", str(out))
    result = json.loads(out.read_text())
    assert [(r["variant"], r["results"]) for r in result["runs"]] == \
        [("tune", 12), ("raysearch_callbacks", 12)]  # every result of 3 trials x 4 iterations
    ours = result["runs"][1]
    assert 0 < ours["callbacks_cpu_s"] < ours["driver_cpu_s"]
    (flush,) = result["flush"]
    assert flush["rows_recorded"] == 1000 and flush["append_ms"] > 0 and flush["rewrite_ms"] > 0


def test_ray_start_bench(tmp_path):
    from bench.ray_start import RAY_DEFAULTS
    from raysearch.runner.session import EMBEDDED_RAY_ENV

    assert set(RAY_DEFAULTS) == set(EMBEDDED_RAY_ENV)  # Ray's own value of each one we change
    out = tmp_path / "ray_start.json"
    run("bench.ray_start", "--repeat", "1", "--out", str(out))
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 4 and {v.split(",")[0] for v in runs} == {"sweep start", "ray.init alone"}
    assert all(len(r) == 1 and r[0]["ray_up_s"] > 0 for r in runs.values())


def test_preloaded_torch_bench(tmp_path):
    out = tmp_path / "preloaded_torch.json"
    run("bench.preloaded_torch", "--seeds", "1", "--epochs", "1", "--out", str(out))
    ((row,),) = json.loads(out.read_text())["runs"].values()
    assert row["results"] == 4 and row["wall_s"] > 0
    assert row["threads"] == [1]  # each trial's one CPU, though torch came in before the trial


def test_cli_exit_bench(tmp_path):
    out, spec = tmp_path / "cli_exit.json", tmp_path / "one.yaml"
    spec.write_text(yaml.safe_dump(digits_spec(run_cap=1, parameters={
        **digits_spec()["parameters"], "epochs": {"value": 1}})))
    run("bench.cli_exit", "--repeat", "1", "--spec", str(spec), "--storage",
        str(tmp_path / "runs"), "--out", str(out))
    runs = json.loads(out.read_text())["runs"]
    assert set(runs) == {"console", "plain exit"} and all(len(v) == 1 and v[0] > 0
                                                          for v in runs.values())
    assert len(list((tmp_path / "runs").iterdir())) == 2  # both ran the sweep to its end


def test_many_fits_bench(tmp_path):
    out = tmp_path / "many_fits.json"
    run("bench.many_fits", "--repeat", "1", "--fits", "2", "--out", str(out))
    result = json.loads(out.read_text())
    (fits,) = result["runs"]["."]
    assert len(fits) == 2 and all(s > 0 for s in fits)
    assert result["summary"]["."]["later_fit_s"] == fits[1]
