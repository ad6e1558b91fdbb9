"""`raysearch.optuna.optimize(study, objective)`: Optuna objectives, unchanged, run as Ray
trials; the study (its sampler, pruner and storage) is the user's and holds every trial after."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import optuna
import pyarrow.parquet as pq
import pytest
import yaml
from optuna.trial import TrialState

import raysearch
from raysearch.cli import main
from tests import optuna_objectives as objectives
from tests.conftest import ROOT, run_probe
from tests.test_resume import wait_for

optuna.logging.set_verbosity(optuna.logging.WARNING)


def states(study: optuna.Study) -> list[str]:
    return [t.state.name for t in study.trials]


def test_tpe_with_median_pruning_runs_the_objective_unchanged(ray_session, storage):
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=4),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3,
                                                                   n_warmup_steps=1))
    result = raysearch.optuna.optimize(study, objectives.digits_mlp, n_trials=12,
                                       resources={"cpu": 1}, storage=storage, quiet=True)
    assert len(study.trials) == 12
    assert set(states(study)) <= {"COMPLETE", "PRUNED"} and "PRUNED" in states(study), \
        states(study)
    assert study.best_value > 0.8 and set(study.best_params) >= {"n_layers", "lr"}
    # the run folder: a row per trial with the params it was given, every trial.report kept
    trials = {t["config.optuna_trial"]: t for t in result.trials.to_pylist()}
    assert sorted(trials) == list(range(12))
    for frozen in study.trials:
        row = trials[frozen.number]
        assert row["status"] == ("stopped" if frozen.state == TrialState.PRUNED else "completed")
        assert {k: row[f"config.{k}"] for k in frozen.params} == frozen.params
        history = [r for r in result.history.to_pylist() if r["trial_id"] == row["trial_id"]
                   and r.get("step") is not None]
        assert {r["step"]: r["intermediate_value"] for r in history} \
            == frozen.intermediate_values
        if frozen.state == TrialState.COMPLETE:
            assert row["final.value"] == pytest.approx(frozen.value)
        else:  # a pruned trial has no value of its own: it never competes for the best
            assert row["final.value"] is None
    assert result.best_value == pytest.approx(study.best_value)
    assert result.best.config["optuna_trial"] == study.best_trial.number
    with open(f"{result.path}/spec.yaml") as f:
        spec = yaml.safe_load(f)
    assert spec["method"] == "optuna-study"
    assert spec["searcher"]["study"]["sampler"] == "TPESampler"
    assert spec["searcher"]["study"]["pruner"] == "MedianPruner"
    assert spec["metric"] == {"name": "value", "goal": "maximize"}
    assert os.path.getsize(f"{result.path}/report.html") > 0


def test_conditional_space_failures_enqueued_trials_callbacks_and_stop(ray_session, storage):
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=1))
    study.enqueue_trial({"model": "linear", "lr": 0.05})
    study.enqueue_trial({"model": "mlp", "hidden": 16, "lr": 0.01}, user_attrs={"fail": True})
    seen = []

    def callback(s: optuna.Study, frozen: optuna.trial.FrozenTrial) -> None:
        seen.append((frozen.number, frozen.state.name))
        if len(seen) == 6:
            s.stop()  # as optuna's MaxTrialsCallback does

    result = raysearch.optuna.optimize(study, objectives.conditional, n_trials=20,
                                       callbacks=[callback], max_concurrent=1, storage=storage,
                                       quiet=True)
    assert len(study.trials) == 6 and sorted(seen) == [(t.number, t.state.name)
                                                       for t in study.trials]
    first, second = study.trials[0], study.trials[1]
    assert first.params == {"model": "linear", "lr": 0.05} and first.state == TrialState.COMPLETE
    assert second.state == TrialState.FAIL  # the objective raised: FAIL, the run went on
    assert "asked to fail" in second.system_attrs.get("fail_reason", "asked to fail")
    assert all(t.state == TrialState.COMPLETE for t in study.trials[2:])
    for t in study.trials:  # conditional: `hidden` exists exactly for the mlp trials
        assert ("hidden" in t.params) == (t.params["model"] == "mlp")
        assert t.user_attrs["model_kind"] == t.params["model"]
        assert t.user_attrs["number_seen_inside"] == t.number
    rows = {r["config.optuna_trial"]: r for r in result.trials.to_pylist()}
    assert rows[1]["status"] == "errored" and "asked to fail" in rows[1]["error"]


def test_two_objectives_with_nsga2(ray_session, storage):
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=4))
    result = raysearch.optuna.optimize(study, objectives.two_objectives, n_trials=6,
                                       storage=storage, quiet=True)
    assert states(study) == ["COMPLETE"] * 6
    assert study.best_trials and all(len(t.values) == 2 for t in study.trials)
    rows = {r["config.optuna_trial"]: r for r in result.trials.to_pylist()}
    for t in study.trials:
        assert rows[t.number]["final.values_0"] == pytest.approx(t.values[0])
        assert rows[t.number]["final.values_1"] == pytest.approx(t.values[1])


def test_random_phase_suggests_what_study_optimize_suggests(ray_session, storage):
    """With the same seed, one trial at a time, the sampler's startup (random) phase gives the
    same parameters on Ray as in-process."""
    def sampler():
        return optuna.samplers.TPESampler(seed=7, n_startup_trials=6)

    local = optuna.create_study(sampler=sampler())
    local.optimize(objectives.quadratic, n_trials=6)
    remote = optuna.create_study(sampler=sampler())
    raysearch.optuna.optimize(remote, objectives.quadratic, n_trials=6, max_concurrent=1,
                              storage=storage, quiet=True)
    assert [t.params for t in remote.trials] == [t.params for t in local.trials]
    assert [t.value for t in remote.trials] == pytest.approx([t.value for t in local.trials])


def test_bad_arguments_fail_before_ray_starts(storage):
    study = optuna.create_study()
    with pytest.raises(raysearch.SpecError) as info:
        raysearch.optuna.optimize(study, "not a function", n_trials=0, timeout=-1,
                                  resources={"cpu": 1, "gpus": 1}, storage=storage)
    problems = info.value.problems
    assert any(p.startswith("objective:") for p in problems)
    assert any(p.startswith("n_trials:") for p in problems)
    assert any(p.startswith("timeout:") for p in problems)
    assert any("gpus" in p for p in problems)
    assert not os.path.exists(storage)


def test_an_optuna_run_folder_is_not_resumed_as_a_spec(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.yaml").write_text(yaml.safe_dump({
        "name": "s", "trainable": "tests.optuna_objectives:quadratic", "method": "optuna-study",
        "metric": {"name": "value", "goal": "minimize"}, "parameters": {"x": {"value": 1}}}))
    assert main(["resume", str(run)]) == 2
    assert "raysearch.optuna.optimize" in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    (["tests/nope.py:quadratic"], "objective: 'tests/nope.py:quadratic': no such file"),
    (["tests/optuna_objectives.py:nope"], "has no function 'nope'"),
    (["tests/optuna_objectives.py:quadratic", "--direction", "up"],
     "--direction: expected minimize or maximize, got 'up'"),
    (["quadratic"], "objective: give 'path/to/file.py:objective'"),
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, expected, capsys, tmp_path):
    assert main(["optuna", *argv, "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())


def _cli(db: str, runs: str, n_trials: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "raysearch", "optuna", "tests/optuna_objectives.py:slow_quadratic",
         "--n-trials", str(n_trials), "--storage", db, "--study-name", "killed",
         "--max-concurrent", "2", "--runs", runs, "--quiet"],
        cwd=ROOT, start_new_session=True, env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.ray
def test_sqlite_study_continues_after_the_driver_is_killed(tmp_path):
    """The CLI with a sqlite storage; the driver SIGKILLed mid-run; the same command continues
    the study: trials the dead driver left RUNNING are FAIL and do not count."""
    db, runs = f"sqlite:///{tmp_path}/study.db", str(tmp_path / "runs")
    first = _cli(db, runs, 20, SLOW_OBJECTIVE_S="2")

    def completed() -> int:
        try:
            study = optuna.load_study(study_name="killed", storage=db)
        except Exception:
            return 0
        return len(study.get_trials(states=(TrialState.COMPLETE,)))

    try:
        wait_for(lambda: completed() >= 2, 180, "two trials to complete")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    before = optuna.load_study(study_name="killed", storage=db).trials
    running = [t.number for t in before if t.state == TrialState.RUNNING]
    assert running, [t.state for t in before]  # it really was killed mid-trial

    second = _cli(db, runs, 3, SLOW_OBJECTIVE_S="0.1")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    after = optuna.load_study(study_name="killed", storage=db).trials
    assert all(after[n].state == TrialState.FAIL for n in running), \
        ([(t.number, t.state.name) for t in before], [(t.number, t.state.name) for t in after])
    new = after[len(before):]
    assert [t.state for t in new] == [TrialState.COMPLETE] * 3
    assert [(t.number, t.state, t.params) for t in after[:len(before)] if t.number not in running] \
        == [(t.number, t.state, t.params) for t in before if t.number not in running]
    # the second run's folder has exactly its own three trials
    (second_run,) = [p for p in sorted((tmp_path / "runs").iterdir())
                     if json.loads((p / "summary.json").read_text()).get("finished")]
    rows = pq.read_table(second_run / "trials.parquet").to_pylist()
    assert sorted(r["config.optuna_trial"] for r in rows) == [t.number for t in new]


SHUTDOWN_PROBE = r"""
import json, sys, threading
import optuna, ray
import raysearch, raysearch.optuna
from tests import optuna_objectives as objectives
from tests.conftest import ray_objects_in_cycles

optuna.logging.set_verbosity(optuna.logging.WARNING)
seen = []
shutdown = ray.shutdown

kept = []

def watched(*args, **kwargs):
    seen.append({"threads": sorted(t.name for t in threading.enumerate()
                                   if t.name.startswith("raysearch-optuna")),
                 "mailboxes": [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)],
                 "in cycles": ray_objects_in_cycles(kept)})
    return shutdown(*args, **kwargs)

ray.shutdown = watched
for n in range(2):  # two studies in one process, each on its own embedded Ray
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=n))
    raysearch.optuna.optimize(study, objectives.quadratic, n_trials=2, storage=sys.argv[1],
                              quiet=True)
    seen.append({"states": [t.state.name for t in study.trials],
                 "threads": [t.name for t in threading.enumerate()
                             if t.name.startswith("raysearch-")]})
print("PROBE " + json.dumps(seen))
"""


@pytest.mark.slow
@pytest.mark.ray
def test_the_study_thread_and_mailbox_are_gone_before_an_embedded_ray_shuts_down(tmp_path):
    """The driver's thread polling the mailbox actor stops, the actor is killed, and the Ray
    objects left in reference cycles (the thread's last exception) are freed, before the
    sweep's own Ray shuts down (in the background, during the epilogue): Ray ends the process
    when it is called while it shuts down (CI saw exit 1: "The core worker has already been
    shutdown", from the driver's main thread)."""
    seen = run_probe(SHUTDOWN_PROBE, str(tmp_path))["PROBE"]
    at_shutdown = {"threads": [], "mailboxes": [], "in cycles": []}
    after = {"states": ["COMPLETE", "COMPLETE"], "threads": []}
    assert seen == [at_shutdown, after, at_shutdown, after], seen


def test_timeout_ends_an_open_ended_run(ray_session, storage, monkeypatch):
    """No n_trials, a timeout: trials start until it passes, then the run ends (as
    study.optimize(timeout=...) does)."""
    monkeypatch.setenv("SLOW_OBJECTIVE_S", "0.5")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    raysearch.optuna.optimize(study, objectives.slow_quadratic, timeout=3, max_concurrent=1,
                              storage=storage, quiet=True)
    assert len(study.trials) >= 1 and all(t.state == TrialState.COMPLETE for t in study.trials)


def test_a_journal_file_storage_holds_every_trial(ray_session, storage, tmp_path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    journal = str(tmp_path / "journal.log")
    study = optuna.create_study(study_name="j", storage=JournalStorage(
        JournalFileBackend(journal)), sampler=optuna.samplers.RandomSampler(seed=2))
    raysearch.optuna.optimize(study, objectives.quadratic, n_trials=4, storage=storage,
                              quiet=True)
    again = optuna.load_study(study_name="j",
                              storage=JournalStorage(JournalFileBackend(journal)))
    assert [(t.number, t.state, t.params, t.value) for t in again.trials] == \
        [(t.number, t.state, t.params, t.value) for t in study.trials]
    assert len(again.trials) == 4
