"""The run folder as people see it: report.html in a real headless Chromium, TensorBoard event
files with HParams, MLflow runs read back with MLflow's client, `load` mid-sweep."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

import raysearch
from raysearch.cli import main
from tests.conftest import digits_spec

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def pbt_run(ray_session, tmp_path_factory) -> raysearch.SweepResult:
    """A small PBT sweep with ASHA-free early-stopped and exploited trials to draw."""
    storage = str(tmp_path_factory.mktemp("runs"))
    spec = digits_spec(
        parameters={"lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 3e-1},
                    "hidden_size": {"values": [16, 32, 64]}, "num_layers": {"value": 1},
                    "batch_size": {"value": 64}, "epochs": {"value": 8}},
        # 8 epochs: perturbations at 2, 4 and 6 (not at a trial's last iteration); half the
        # population may exploit the other half: 2-4 exploits in 5 of 5 runs (6 epochs and a
        # quarter gave none in 1 of 5)
        run_cap=4, seed=3, scheduler={"type": "pbt", "perturbation_interval": 2,
                                      "quantile_fraction": 0.5})
    return raysearch.run(spec, storage=storage, quiet=True)


def running_best(result: raysearch.SweepResult) -> list[float]:
    """The best objective so far over trials in the order they started, from the tables."""
    first: dict[str, float] = {}
    for row in result.history.to_pylist():
        first[row["trial_id"]] = min(first.get(row["trial_id"], row["timestamp"]),
                                     row["timestamp"])
    best, out = None, []
    for trial in sorted(result.trials.to_pylist(), key=lambda t: first[t["trial_id"]]):
        value = trial["best.val_accuracy"]
        best = value if best is None else max(best, value)
        out.append(best)
    return out


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make browser)")
def test_report_renders_in_a_real_browser(pbt_run, tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = Path(pbt_run.path) / "report.html"
    assert page_path.is_file()
    text = page_path.read_text()
    assert "<script src=" not in text and "<link" not in text  # self-contained
    assert page_path.stat().st_size < 2_500_000  # plotly.js gzipped once (was 4.9 MB)
    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
                else outside.append(r.url))
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-plotted=yes]", timeout=30_000)
        drawn = {key: page.locator(f"#plot-{key}.js-plotly-plot").count()
                 for key in ("history", "parcoords", "importance", "slices", "contour",
                             "curves", "timeline", "edf")}
        # 4 trials: importance and its contour need more comparable trials (and the contour a
        # second numeric parameter: hidden_size is categorical); each says so instead
        assert drawn == {"history": 1, "parcoords": 1, "importance": 1, "slices": 1,
                         "contour": 0, "curves": 1, "timeline": 1, "edf": 1}, drawn
        assert "Needs two numeric parameters" in page.inner_text("#contour")
        for key in ("history", "parcoords", "slices", "curves", "timeline", "edf"):
            plot = page.locator(f"#plot-{key}")
            assert plot.locator("svg").count() > 0, key
            box = plot.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100, key
        # the history's best-so-far line is the tables' running best
        line = page.evaluate("document.getElementById('plot-history').data"
                             ".find(t => t.name === 'best so far').y")
        assert line == pytest.approx(running_best(pbt_run))
        # axes in the parameters' own units: lr on a log axis labelled 0.01, 0.02...
        dims = page.evaluate("document.getElementById('plot-parcoords').data[0].dimensions"
                             ".map(d => [d.label, d.ticktext || null])")
        labels = dict(dims)  # (PBT's exploits copied hidden_size: one value left, no axis)
        assert labels["lr (log)"] and all(float(t) > 0 for t in labels["lr (log)"])
        # selecting a range on an axis filters the table
        rows = page.locator("#trials tbody tr")
        assert rows.count() == 4
        keep = page.evaluate("""() => {
            const div = document.getElementById('plot-parcoords');
            const k = div.data[0].dimensions.findIndex(d => d.label === 'lr (log)');
            const values = div.data[0].dimensions[k].values;
            const low = Math.min(...values);
            Plotly.restyle(div, {[`dimensions[${k}].constraintrange`]: [[low - 1e-9, low + 1e-9]]});
            return values.filter(v => v === low).length;
        }""")
        visible = page.locator("#trials tbody tr:not([hidden])")
        assert 1 <= visible.count() == keep < 4
        assert f"{keep} of 4 trials" in page.inner_text("#selection")
        # a trial id in the table picks out its learning curve
        trial_id = visible.first.get_attribute("data-trial")
        visible.first.locator("td").first.click()
        opacities = page.evaluate("document.getElementById('plot-curves').data"
                                  ".filter(t => t.meta).map(t => [t.meta, t.opacity])")
        assert {m for m, o in opacities if o == 1} == {trial_id}
        assert "PBT exploit" in page.inner_text("#curves")  # exploits are marked
        # the curves show any reported metric, against iteration or wall time
        page.locator("#plot-curves .updatemenu-header").click()
        page.locator("#plot-curves .updatemenu-dropdown-button",
                     has_text="val_loss by wall time").click()
        assert page.evaluate("document.getElementById('plot-curves').layout.yaxis.title.text"
                             ) == "val_loss"
        # what was run
        header = page.inner_text("#run")
        for expected in ("seed", "3", "pbt", "run_cap 4", "ray ", "raysearch ", " UTC"):
            assert expected in header, header
        assert not page.locator("#spec pre").is_visible()  # collapsed until asked for
        page.locator("#spec summary").click()
        assert "perturbation_interval" in page.locator("#spec pre").inner_text()
        assert "node_id" not in page.inner_text("#best")  # bookkeeping out of the metrics
        assert str(pbt_run.path) + "/trial_" not in page.inner_text("#best")  # relative paths

        # the trial table sorts on click
        page.evaluate("Plotly.restyle('plot-parcoords', {'dimensions[0].constraintrange': null})")
        cells = page.locator("#trials tbody tr:not([hidden]) td:first-child")
        header = page.locator("#trials th", has_text="trial_id")
        header.click()
        ids = [cells.nth(i).inner_text() for i in range(cells.count())]
        assert ids == sorted(ids)
        header.click()
        assert [cells.nth(i).inner_text() for i in range(cells.count())] == sorted(ids)[::-1]
        shot = tmp_path / "report.png"  # kept in the test's temp folder
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert not errors, errors
    assert not outside, outside  # it asked for nothing off the page: works offline
    assert shot.stat().st_size > 20_000


def test_report_command_rewrites_the_page(pbt_run, capsys):
    page = Path(pbt_run.path) / "report.html"
    page.unlink()
    assert main(["report", pbt_run.path]) == 0
    out = capsys.readouterr().out
    assert page.is_file() and f"report: {page}" in out and "best val_accuracy" in out


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a TensorBoard run folder: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0}).Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def test_tensorboard_events_hold_every_recorded_result_under_pbt(pbt_run):
    """raysearch writes RUN_DIR/tensorboard/<trial>/ from the results it records: tags named
    as the metrics, every result of a PBT sweep (exploits, actor reuse) there, the config in
    the HParams tab; Ray's own per-trial event files are no longer written."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root = Path(pbt_run.path) / "tensorboard"
    history = pbt_run.history.to_pylist()
    trial_ids = {t["trial_id"] for t in pbt_run.trials.to_pylist()}
    assert {p.name for p in root.iterdir()} == trial_ids
    for trial_id in trial_ids:
        found = scalars(root / trial_id)
        assert {"val_accuracy", "train_loss", "val_loss"} <= set(found)
        assert not [t for t in found if t.startswith("ray/") or t in ("pid", "done")]
        ours = sorted((r["iteration"], r["val_accuracy"]) for r in history
                      if r["trial_id"] == trial_id)
        theirs = sorted(found["val_accuracy"])  # (TensorBoard stores 32-bit floats)
        assert [s for s, _ in theirs] == [s for s, _ in ours]
        assert [v for _, v in theirs] == pytest.approx([v for _, v in ours], rel=1e-6)
        hparams = EventAccumulator(str(root / trial_id / "hparams")).Reload()
        assert "best.val_accuracy" in hparams.Tags()["scalars"]
    assert not list(Path(pbt_run.path).glob("trial_*/events.out.tfevents.*"))


@pytest.mark.usefixtures("ray_session")
def test_mlflow_nests_trials_under_a_sweep_run_with_clean_metrics(tmp_path, monkeypatch):
    """MLflow read back with its client: a parent run per sweep named by --name, a child run
    per trial with the config as params and only the trainable's metrics, the checkpoint an
    artifact beside the tracking database (not in the working directory); resume reuses the
    parent."""
    from mlflow.tracking import MlflowClient

    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)  # MLflow's default would put artifacts under here
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(digits_spec(run_cap=2, tracking={"mlflow": {
        "tracking_uri": uri}})))
    assert main(["run", str(spec), "--storage", str(tmp_path / "runs"), "--name", "named",
                 "--quiet"]) == 0
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("named")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    (parent,) = parents
    assert parent.info.run_name == "named" and parent.info.status == "FINISHED"
    assert parent.data.params["method"] == "random" and "best_val_accuracy" in parent.data.metrics
    assert len(children) == 2
    for run in children:
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert {"lr", "num_layers", "hidden_size"} <= set(run.data.params)
        assert set(run.data.metrics) == {"val_accuracy", "val_loss", "train_loss", "epoch"}
        assert len(client.get_metric_history(run.info.run_id, "val_accuracy")) == 2
        artifacts = [a.path for a in client.list_artifacts(run.info.run_id)]
        assert any(a.startswith("checkpoint_") for a in artifacts), artifacts
        assert run.info.artifact_uri.startswith(str(tmp_path / "mlartifacts" / "named"))
    assert not any(work.iterdir())  # nothing written where the command ran
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert main(["resume", str(run_dir), "--quiet"]) == 0
    assert len([r for r in client.search_runs([experiment.experiment_id])
                if "mlflow.parentRunId" not in r.data.tags]) == 1


def test_unknown_tracker_is_a_spec_error():
    with pytest.raises(raysearch.SpecError, match="tracking: unknown tracker 'wandb'"):
        raysearch.load_spec(digits_spec(tracking={"wandb": {}}))


def test_load_works_mid_sweep_from_partial_tables(pbt_run, tmp_path):
    """A folder whose sweep is still running (no summary.json yet) loads all the same."""
    partial = tmp_path / "partial"
    shutil.copytree(pbt_run.path, partial, ignore=shutil.ignore_patterns(
        "summary.json", "summary.json.bak", "trial_*"))
    result = raysearch.load(str(partial))
    assert result.summary == {} and result.trials.num_rows == 4 and result.best is not None


def test_a_copied_run_folder_finds_its_own_checkpoints(pbt_run, tmp_path):
    """The tables record absolute checkpoint paths, those of where the sweep ran: a copy
    elsewhere (off a cluster, say) answers with its own checkpoints, not the original's."""
    copy = Path(shutil.copytree(pbt_run.path, tmp_path / "copy"))
    best = raysearch.load(copy).best
    assert best.checkpoint.startswith(f"{copy}/trial_") and Path(best.checkpoint).is_dir()
    assert best.checkpoint.replace(str(copy), pbt_run.path) == pbt_run.best.checkpoint


def test_axes_are_in_the_parameters_own_units():
    """Parallel-coordinates axes: categorical numbers as their values only (no 80 or 1.5
    between them), log parameters on log axes with round real-valued ticks."""
    from raysearch.report.data import Axis
    from raysearch.report.figures import axis_dimension, log_ticks

    batch = axis_dimension(Axis("batch_size", categorical=True), [128, 64, 256, 64])
    assert batch["ticktext"] == ["64", "128", "256"] and batch["values"] == [1, 0, 2, 0]
    assert batch["tickvals"] == [0, 1, 2]
    lr = axis_dimension(Axis("lr", log=True), [1e-4, 3e-3, 0.05])
    assert lr["label"] == "lr (log)" and lr["values"][0] == pytest.approx(-4)
    assert [float(t) for t in lr["ticktext"]] == log_ticks(1e-4, 0.05)
    assert log_ticks(1e-4, 0.05)[0] == 1e-4 and all(1e-4 <= t <= 0.05 for t in log_ticks(1e-4, 0.05))
    assert axis_dimension(Axis("dropout"), [0.1, 0.2]) == {"label": "dropout", "values": [0.1, 0.2]}


def test_report_serve_rebuilds_the_page_from_the_tables_and_reloads_while_running(pbt_run,
                                                                                 tmp_path):
    """`raysearch report RUN_DIR --serve`: each request reads the tables again; a sweep that
    has not finished gets a page that reloads itself."""
    import json
    import threading
    import urllib.request

    from raysearch.report.serve import report_server

    running = tmp_path / "running"
    shutil.copytree(pbt_run.path, running, ignore=shutil.ignore_patterns("trial_*"))
    summary = json.loads((running / "summary.json").read_text())
    for name in ("summary.json", ".raysearch-state/summary.json.bak"):
        (running / name).write_text(json.dumps({**summary, "finished": False, "ended": None}))
    server = report_server(str(running), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        assert '<meta http-equiv=refresh content="15">' in page and "(running)" in page
        assert page.count('data-trial="') == 4
        # a trial more in the tables: the next request shows it
        import pyarrow as pa
        import pyarrow.parquet as pq

        trials = pq.read_table(running / "trials.parquet").to_pylist()
        trials.append({**trials[0], "trial_id": "later_00009", "status": "running"})
        pq.write_table(pa.Table.from_pylist(trials), running / "trials.parquet")
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        assert page.count('data-trial="') == 5 and 'data-trial="later_00009"' in page
        finished = report_server(pbt_run.path, port=0)  # a finished sweep: no reloading
        threading.Thread(target=finished.serve_forever, daemon=True).start()
        done = urllib.request.urlopen(f"http://127.0.0.1:{finished.server_address[1]}/",
                                      timeout=30).read().decode()
        assert "http-equiv=refresh" not in done
        finished.shutdown()
    finally:
        server.shutdown()


def synthetic_run(folder: Path, count: int) -> raysearch.SweepResult:
    """A finished run folder written by hand: `count` trials of an Optuna objective's
    conditional space (`hidden` only where `model` is 'mlp'), one result each."""
    import json
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(0)
    spec = {"name": "conditional", "trainable": "tests.optuna_objectives:conditional",
            "method": "random", "metric": {"name": "value", "goal": "maximize"},
            "parameters": {"model": {"values": ["linear", "mlp"]},
                           "hidden": {"distribution": "int_uniform", "min": 8, "max": 32},
                           "lr": {"distribution": "log_uniform_values", "min": 1e-3,
                                  "max": 1e-1}}}
    trials, history = [], []
    for i in range(count):
        model = "mlp" if i % 3 else "linear"
        hidden = rng.randint(8, 32) if model == "mlp" else None
        lr, value = 10 ** rng.uniform(-3, -1), rng.uniform(0.5, 0.9)
        config = {"config.model": model, "config.hidden": hidden, "config.lr": lr}
        trials.append({"trial_id": f"t{i}", "status": "completed", **config,
                       "final.value": value, "best.value": value, "iterations": 1})
        history.append({"trial_id": f"t{i}", "iteration": 1, "generation": 0, "time_s": 1.0,
                        "timestamp": 1000.0 + i, "value": value, **config})
    pq.write_table(pa.Table.from_pylist(trials), folder / "trials.parquet")
    pq.write_table(pa.Table.from_pylist(history), folder / "history.parquet")
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec))
    (folder / "summary.json").write_text(json.dumps({"started": 1000.0, "finished": True}))
    return raysearch.load(folder)  # a pathlib.Path, as a str


def test_a_conditional_space_renders(tmp_path):
    """A parameter only some trials have (an Optuna objective's conditional `hidden`): the
    contour and the other figures use the trials that have it, nothing fails."""
    from raysearch.report.html import render

    page = render(synthetic_run(tmp_path, 12))
    assert "Contour of the two most important parameters" in page


@pytest.mark.parametrize("count, step", [(2, 1), (10, 1), (11, 2), (30, 5), (64, 10),
                                         (250, 50)])
def test_trial_numbers_get_whole_number_ticks(tmp_path, count, step):
    """The history's trial axis and the slices' colour bar count trials: ticks at whole
    numbers, a round step, ten at most (plotly's own put 1.2, 1.4 between two trials)."""
    from raysearch.report.data import report_data
    from raysearch.report.figures import history, slices

    data = report_data(synthetic_run(tmp_path, count))
    axis = history(data).figure.layout.xaxis
    bars = [t.marker.colorbar for t in slices(data).figure.data if t.marker.showscale]
    assert len(bars) == 1
    for ticks in (axis, bars[0]):
        assert (ticks.dtick, ticks.tickformat) == (step, "d")
        assert count / step <= 10 and (step == 1 or count / step > 4)


def test_the_slices_log_axes_are_labelled_at_round_values(tmp_path):
    """A log-scaled parameter's slice (lr, 1e-3..1e-1 here) is labelled at a few round values
    inside its range; Plotly's own labels put every digit under a decade (6 7 8 9 100 2 3)."""
    from raysearch.report.data import report_data
    from raysearch.report.figures import slices

    data = report_data(synthetic_run(tmp_path, 20))
    figure = slices(data).figure
    names = [a.text for a in figure.layout.annotations]
    axis = figure.layout[f"xaxis{names.index('lr') + 1}"]
    lrs = [t["config.lr"] for t in data.trials]
    assert axis.type == "log" and 2 <= len(axis.tickvals) <= 3
    assert all(min(lrs) <= t <= max(lrs) for t in axis.tickvals)
    assert all(float(f"{t:.1g}") == t for t in axis.tickvals), axis.tickvals
    assert [float(t) for t in axis.ticktext] == list(axis.tickvals)


def test_the_timeline_has_a_bar_per_trial_from_its_start_to_its_last_result(tmp_path):
    """Trial i of the synthetic run reported once, at 1000 + i s, after 1.0 s of training:
    its bar runs from i to i + 1 s after the earliest start (999 s), in its status's colour;
    a trial with no result has no bar."""
    import pyarrow.parquet as pq

    from raysearch.report.data import report_data
    from raysearch.report.figures import STATUS_COLOURS, timeline

    result = synthetic_run(tmp_path, 6)
    trials = pq.read_table(tmp_path / "trials.parquet").to_pylist()
    trials[5]["status"] = "stopped"
    trials.append({**trials[0], "trial_id": "never", "status": "errored"})
    pq.write_table(pa.Table.from_pylist(trials), tmp_path / "trials.parquet")
    data = report_data(raysearch.load(result.path))
    bars = {trace.name: trace for trace in timeline(data).figure.data}
    assert set(bars) == {"completed", "stopped"}
    assert list(bars["completed"].base) == [0, 1, 2, 3, 4]
    assert list(bars["completed"].x) == [1.0] * 5 and list(bars["completed"].y) == [1, 2, 3, 4, 5]
    assert list(bars["stopped"].base) == [5] and bars["stopped"].marker.color == \
        STATUS_COLOURS["stopped"]
    assert [row[0] for row in bars["completed"].customdata] == [f"t{i}" for i in range(5)]


def test_serving_where_it_cannot_listen_is_one_line_exit_2(tmp_path, capsys):
    """`report --serve` on a port taken (a second server), past 65535, or a host this
    machine does not have: one line naming the flag and what to change, no traceback."""
    import socket

    run = synthetic_run(tmp_path, 2).path
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        for flags, expected in (
                (["--port", str(port)], f"--port {port}: 127.0.0.1:{port} is in use"),
                (["--port", "70000"], "--port 70000: a port is 0-65535"),
                (["--host", "256.1.1.1"], "--host 256.1.1.1: not an address of this machine")):
            assert main(["report", run, "--serve", *flags]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"raysearch: error: {expected}") and err.count("\n") == 1, err
    finally:
        taken.close()
