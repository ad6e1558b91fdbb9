"""`raysearch export RUN_DIR --optuna STORAGE`: the sweep as an Optuna study that Optuna and
optuna-dashboard read back: the same trials, params with their distributions, states,
values and intermediate values (issue #16, part 7)."""

from __future__ import annotations

import io
import json

import optuna
import pytest

import raysearch
from raysearch.cli import main
from tests.conftest import digits_spec

pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.fixture(scope="module")
def asha_run(ray_session, tmp_path_factory) -> raysearch.SweepResult:
    """Trials stopped early by ASHA beside ones that ran to the end, one at a time (so the
    decisions are the same every run: seeded draws, deterministic training); learning rates
    down to 1e-5 learn next to nothing in an epoch, and ASHA stops them."""
    spec = digits_spec(run_cap=6, max_concurrent=1, seed=4,
                       parameters={**digits_spec()["parameters"], "epochs": {"value": 6},
                                   "lr": {"distribution": "log_uniform_values", "min": 1e-5,
                                          "max": 1e-1}},
                       scheduler={"type": "asha", "grace_period": 1, "reduction_factor": 2})
    return raysearch.run(spec, storage=str(tmp_path_factory.mktemp("runs")), quiet=True)


def test_the_exported_study_has_the_sweeps_trials(asha_run, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    assert main(["export", asha_run.path, "--optuna", url]) == 0
    assert "open it with: optuna-dashboard" in capsys.readouterr().out
    study = optuna.load_study(study_name="digits-test", storage=url)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    trials = {t.user_attrs["raysearch_trial_id"]: t for t in study.trials}
    ours = {t["trial_id"]: t for t in asha_run.trials.to_pylist()}
    assert trials.keys() == ours.keys()
    states = {"completed": "COMPLETE", "stopped": "PRUNED"}
    assert {t["status"] for t in ours.values()} == {"completed", "stopped"}  # both kinds here
    history = asha_run.history.to_pylist()
    for trial_id, trial in trials.items():
        row = ours[trial_id]
        assert trial.state.name == states[row["status"]]
        if trial.state.name == "COMPLETE":
            assert trial.value == row["best.val_accuracy"]
        assert trial.intermediate_values == {
            r["iteration"]: r["val_accuracy"] for r in history if r["trial_id"] == trial_id}
        assert trial.params == {"lr": row["config.lr"], "num_layers": row["config.num_layers"],
                                "hidden_size": row["config.hidden_size"]}
        assert trial.distributions["lr"].log and trial.distributions["lr"].low == 1e-5
        assert list(trial.distributions["hidden_size"].choices) == [32, 64]
    assert study.best_value == asha_run.best_value
    assert study.user_attrs["constants"] == {"batch_size": 64, "epochs": 6}
    # never over an existing study
    assert main(["export", asha_run.path, "--optuna", url]) == 2
    assert "already in" in capsys.readouterr().err


@pytest.mark.parametrize("where, reason", [
    ("sqlite:///{tmp}/no/such/folder/study.db", "OperationalError: (sqlite3.OperationalError) "
                                                "unable to open database file"),
    ("{tmp}/no/such/folder/journal.log", "FileNotFoundError"),
    ("postgresql://user@127.0.0.1:9/db", "ImportError"),  # its driver is not installed
])
def test_a_storage_optuna_cannot_open_is_one_line_exit_2(asha_run, tmp_path, capsys, where,
                                                         reason):
    url = where.format(tmp=tmp_path)
    assert main(["export", asha_run.path, "--optuna", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"raysearch: error: --optuna {url}: Optuna cannot open this "
                          f"storage: {reason}") and err.count("\n") == 1, err


def test_optuna_dashboard_opens_the_exported_study(asha_run, tmp_path):
    from wsgiref.util import setup_testing_defaults

    from optuna_dashboard import wsgi

    from raysearch.results.optuna_export import export_to_optuna

    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = export_to_optuna(asha_run, url, "exported")
    app = wsgi(url)

    def get(path: str) -> dict:
        environ: dict = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
        setup_testing_defaults(environ)
        status: list[str] = []
        body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        assert status[0].startswith("200"), (path, status, body[:300])
        return json.loads(body)

    (listed,) = get("/api/studies")["study_summaries"]
    assert listed["study_name"] == "exported"
    detail = get(f"/api/studies/{listed['study_id']}")
    assert len(detail["trials"]) == len(study.trials) == asha_run.trials.num_rows
    assert {t["state"] for t in detail["trials"]} == {"Complete", "Pruned"}
    assert any(t["intermediate_values"] for t in detail["trials"])


def test_a_sweep_without_a_metric_has_nothing_to_export(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.yaml").write_text("name: x\nmethod: grid\nmetric: null\nparameters: {}\n")
    assert main(["export", str(run), "--optuna", f"sqlite:///{tmp_path / 's.db'}"]) == 2
    assert "no metric" in capsys.readouterr().err
