"""PBT's exploit proven from the run folder, the whole-sweep target, fractional-GPU packing on
logical GPUs (each scheduler's contract run is in test_contracts.py)."""

from __future__ import annotations

import textwrap

import pytest

import raysearch
from raysearch.errors import ClusterError, SpecError
from raysearch.spec import load_spec
from tests.conftest import digits_spec

SPACE = {"lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
         "num_layers": {"value": 1}, "hidden_size": {"value": 32},
         "batch_size": {"value": 64}, "epochs": {"value": 4}}


@pytest.mark.usefixtures("ray_session")
def test_pbt_exploits_a_stronger_trial_with_a_mutated_config(storage):
    spec = digits_spec(
        parameters={**SPACE, "lr": {"distribution": "log_uniform_values", "min": 1e-4,
                                    "max": 3e-1}, "epochs": {"value": 8}},
        run_cap=4, seed=3,
        scheduler={"type": "pbt", "perturbation_interval": 2, "quantile_fraction": 0.25,
                   "resample_probability": 0.5})
    result = raysearch.run(spec, storage=storage, quiet=True)
    history = result.history.to_pylist()
    exploits = [r for r in history if r.get("restored_from") not in (None, r["trial_id"])]
    assert exploits, "PBT never copied one trial into another"
    for row in exploits:
        donor = row["restored_from"]
        own = sorted((r for r in history if r["trial_id"] == row["trial_id"]
                      and r["iteration"] < row["iteration"]), key=lambda r: r["iteration"])
        donor_rows = {r["iteration"]: r for r in history if r["trial_id"] == donor}
        # it continued from the donor's checkpoint: its epoch count went on, not from 1
        assert row["epoch"] > 1 and row["epoch"] - 1 in {r["epoch"] for r in donor_rows.values()}
        # with a config that is neither its own before nor (necessarily) the donor's: mutated
        assert row["config.lr"] != own[-1]["config.lr"]
        assert row["config.lr"] != donor_rows[row["epoch"] - 1]["config.lr"]


@pytest.mark.usefixtures("ray_session")
def test_pb2_exploits_with_a_config_from_its_bandit_inside_the_ranges(storage):
    spec = digits_spec(
        parameters={**SPACE, "lr": {"distribution": "log_uniform_values", "min": 1e-4,
                                    "max": 3e-1}, "epochs": {"value": 8}},
        run_cap=4, seed=3, scheduler={"type": "pb2", "perturbation_interval": 2})
    result = raysearch.run(spec, storage=storage, quiet=True)
    history = result.history.to_pylist()
    exploits = [r for r in history if r.get("restored_from") not in (None, r["trial_id"])]
    assert exploits, "PB2 never copied one trial into another"
    for row in exploits:
        own = max((r for r in history if r["trial_id"] == row["trial_id"]
                   and r["iteration"] < row["iteration"]), key=lambda r: r["iteration"])
        assert row["epoch"] > 1  # continued from the donor's checkpoint
        assert row["config.lr"] != own["config.lr"]  # with a config its bandit chose
        # inside the range (PB2's bandit works in float32: the bound itself may come back
        # as 0.30000001)
        assert 1e-4 * (1 - 1e-6) <= row["config.lr"] <= 3e-1 * (1 + 1e-6)


def test_pb2_mutates_numbers_only_and_says_so():
    mixed = {**SPACE, "batch_size": {"values": [32, 64]}}  # mutable mid-training, categorical
    sweep = load_spec(digits_spec(parameters=mixed, scheduler={"type": "pb2"}))
    assert set(sweep.mutation_space) == {"lr"}
    assert any("batch_size: pb2 explores numeric ranges only" in n for n in sweep.notices)
    with pytest.raises(SpecError, match="hyperparam_mutations.batch_size: pb2 explores numeric"):
        load_spec(digits_spec(parameters=mixed, scheduler={
            "type": "pb2", "hyperparam_mutations": {"batch_size": {"values": [32, 64]}}}))


def test_a_scheduler_whose_package_is_missing_fails_before_ray(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "GPy" else real(name, *a))
    with pytest.raises(SpecError, match=r"scheduler.type: pb2 needs GPy.*raysearch\[pb2\]"):
        load_spec(digits_spec(parameters=SPACE, scheduler={"type": "pb2"}))


def test_pbt_aligns_checkpoints_with_the_perturbation_interval():
    sweep = load_spec(digits_spec(parameters=SPACE, checkpoint={"every": 2},
                                  scheduler={"type": "pbt", "perturbation_interval": 3}))
    assert sweep.checkpoint.every == 1
    assert any("does not divide PBT's perturbation_interval 3" in n for n in sweep.notices)


@pytest.mark.parametrize("name", ["pbt", "pb2"])
def test_population_schedulers_leave_a_trials_last_iteration_alone(name):
    """A donor's last result comes before its function returns, so Tune's PBT would let a weak
    trial clone that final checkpoint and end at once with nothing trained (seen in the
    contract test under load). At the trial's known length (a constant `epochs`) the scheduler
    neither saves nor exploits: it does not even reach for the controller (None here), while
    Tune's own PBT does, and so does ours where the trial decides its own end."""
    from ray.tune.experiment import Trial
    from ray.tune.schedulers import PopulationBasedTraining, TrialScheduler
    from ray.tune.schedulers.pbt import _PBTTrialState

    from raysearch.registry import SCHEDULERS

    def scheduler_for(parameters: dict) -> tuple:
        context = load_spec(digits_spec(parameters=parameters, scheduler={
            "type": name, "perturbation_interval": 2})).scheduler_context()
        return SCHEDULERS.get(name).build(context, perturbation_interval=2), context.max_t

    known, length = scheduler_for(SPACE)  # epochs: 4
    unknown, default_max_t = scheduler_for({**SPACE, "epochs": {"values": [4, 8]}})
    tunes_own = PopulationBasedTraining(time_attr="training_iteration", perturbation_interval=2,
                                        hyperparam_mutations={"lr": [0.01, 0.1]})
    for scheduler, last in ((known, length), (unknown, default_max_t), (tunes_own, length)):
        scheduler.set_search_properties("val_accuracy", "max")
        trial = Trial("digits_mlp", config={"lr": 0.01}, stub=True)
        scheduler._trial_state[trial] = _PBTTrialState(trial)  # what on_trial_add sets up
        result = {"training_iteration": last, "val_accuracy": 0.9}
        if scheduler is known:
            assert scheduler.on_trial_result(None, trial, result) == TrialScheduler.CONTINUE
            assert scheduler._trial_state[trial].last_train_time == 0
        else:
            with pytest.raises(AttributeError):  # it goes on to save or exploit
                scheduler.on_trial_result(None, trial, result)


@pytest.mark.parametrize("name", ["pbt", "pb2"])
def test_population_schedulers_stop_a_trial_at_max_t_as_its_full_length(name):
    """Where the trial decides its own end, `max_t` caps it (PBT cannot exploit the last live
    trial, so one that never ends would run forever): stopped there without saving or
    exploiting, and the spec counts `max_t` as the trial's full length, so the recorder marks
    it completed (Ray's `pbt_function` example in test_record.py runs it whole)."""
    from ray.tune.experiment import Trial
    from ray.tune.schedulers import TrialScheduler
    from ray.tune.schedulers.pbt import _PBTTrialState

    from raysearch.registry import SCHEDULERS

    options = {"type": name, "perturbation_interval": 2, "max_t": 5}
    sweep = load_spec(digits_spec(parameters={**SPACE, "epochs": {"values": [4, 8]}},
                                  scheduler=options))
    assert sweep.iteration_budget() == 5
    scheduler = SCHEDULERS.get(name).build(sweep.scheduler_context(), perturbation_interval=2,
                                           max_t=5)
    scheduler.set_search_properties("val_accuracy", "max")
    trial = Trial("digits_mlp", config={"lr": 0.01}, stub=True)
    scheduler._trial_state[trial] = _PBTTrialState(trial)
    for step in (5, 6):  # never reaches for the controller (None): no save, no exploit
        result = {"training_iteration": step, "val_accuracy": 0.9}
        assert scheduler.on_trial_result(None, trial, result) == TrialScheduler.STOP
    with pytest.raises(AttributeError):  # before max_t it goes on to save or exploit
        scheduler.on_trial_result(None, trial, {"training_iteration": 4, "val_accuracy": 0.9})


def test_pbt_refuses_a_search_algorithm():
    with pytest.raises(SpecError, match="pbt chooses configs itself"):
        load_spec(digits_spec(method="hyperopt", parameters=SPACE, scheduler={"type": "pbt"}))


@pytest.mark.usefixtures("ray_session")
def test_metric_target_stops_the_whole_sweep(storage, capsys):
    spec = digits_spec(parameters=SPACE, run_cap=8, max_concurrent=1,
                       metric={"name": "val_accuracy", "goal": "maximize", "target": 0.3})
    result = raysearch.run(spec, storage=storage, quiet=True)
    assert result.target_reached
    started = [r for r in result.trials.to_pylist() if r["iterations"]]
    assert len(started) < 8  # later trials never ran
    from raysearch.report import summary

    assert "target val_accuracy 0.3: reached, sweep stopped" in summary(result)


PACKED = textwrap.dedent("""
    import time
    import ray
    from ray import tune

    def hold_gpu(config):
        start = time.time()
        time.sleep(3)
        tune.report({"start": start, "end": time.time(), "gpus": len(ray.get_gpu_ids())})
""")


@pytest.mark.usefixtures("ray_session")
def test_quarter_gpus_pack_four_trials_on_one_gpu(tmp_path, storage):
    """The session's Ray has 1 logical GPU (and 2 CPUs); gpu: 0.25 must run 4 at once."""
    module = tmp_path / "packed.py"
    module.write_text(PACKED)
    result = raysearch.run(trainable=f"{module}:hold_gpu", metric="end", goal="minimize",
                           method="grid", parameters={"i": {"values": [0, 1, 2, 3]}},
                           resources={"cpu": 0.25, "gpu": 0.25}, storage=storage, quiet=True)
    rows = result.history.to_pylist()
    assert len(rows) == 4 and all(r["gpus"] == 1 for r in rows)
    latest_start, earliest_end = max(r["start"] for r in rows), min(r["end"] for r in rows)
    assert latest_start < earliest_end  # all four were running at the same moment


@pytest.mark.usefixtures("ray_session")
def test_more_gpu_than_the_cluster_has_is_an_error(storage):
    with pytest.raises(ClusterError, match="each trial asks for 2 GPU, but the Ray cluster has 1"):
        raysearch.run(digits_spec(resources={"cpu": 1, "gpu": 2}), storage=storage, quiet=True)
    with pytest.raises(ClusterError, match="or pass --autoscaling"):
        raysearch.run(digits_spec(resources={"cpu": 3}), storage=storage, quiet=True)
