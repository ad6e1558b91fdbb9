"""A W&B sweep file runs unchanged; W&B's keys map as documented."""

from __future__ import annotations

import textwrap

import pytest
import yaml

import raysearch
from raysearch.cli import main
from raysearch.spec import load_spec
from tests.conftest import EXAMPLES

WANDB_SWEEP = EXAMPLES / "wandb" / "sweep.yaml"
WANDB_TRAIN = EXAMPLES / "wandb" / "ported.py"  # train.py as a Ray Tune function


def test_validate_prints_the_resolved_space_and_ignored_keys(capsys):
    assert main(["validate", str(WANDB_SWEEP), "--trainable", f"{WANDB_TRAIN}:train"]) == 0
    out, err = capsys.readouterr()
    assert "bayes search over 3 parameters" in out and "scheduler wandb_hyperband" in out
    assert "learning_rate  uniform min=0.0001, max=0.1" in out
    assert "optimizer      categorical ['adam', 'sgd']" in out
    assert "raysearch: note: ignoring program/command: the trainable given runs in-process" \
        in err


def test_wandb_file_without_trainable_runs_its_program(capsys):
    assert main(["validate", str(WANDB_SWEEP)]) == 0
    assert f"program: {EXAMPLES / 'wandb' / 'train.py'}" in capsys.readouterr().out


def test_a_spec_without_trainable_or_program_says_how_to_give_one(capsys, tmp_path):
    (tmp_path / "s.yaml").write_text("metric: {name: loss}\n")
    assert main(["validate", str(tmp_path / "s.yaml")]) == 2
    assert "pass --trainable" in capsys.readouterr().err


@pytest.mark.usefixtures("ray_session")
def test_wandb_sweep_file_runs_unchanged(storage, capsys):
    code = main(["run", str(WANDB_SWEEP), "--trainable", f"{WANDB_TRAIN}:train",
                 "--num-samples", "3", "--storage", storage, "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    result = raysearch.load(out.rsplit("run folder: ", 1)[1].strip())
    assert result.trials.num_rows == 3 and result.counts["errored"] == 0
    assert result.spec["scheduler"] == {"type": "wandb_hyperband", "eta": 3, "min_iter": 1}
    assert result.best.metrics["validation_loss"] < 2.3  # better than chance on 10 classes


@pytest.mark.parametrize("early_terminate,expected", [
    ({"type": "hyperband", "min_iter": 3}, {"min_iter": 3, "eta": 3}),
    ({"type": "hyperband", "min_iter": 2, "eta": 2, "strict": False},
     {"min_iter": 2, "eta": 2, "strict": False}),
    ({"type": "hyperband", "max_iter": 27, "s": 2}, {"max_iter": 27, "s": 2, "eta": 3}),
    # W&B uses max_iter and s when all three are given
    ({"type": "hyperband", "min_iter": 1, "max_iter": 27, "s": 2},
     {"max_iter": 27, "s": 2, "eta": 3}),
])
def test_early_terminate_is_wandbs_own_hyperband(early_terminate, expected):
    sweep = load_spec({"trainable": "digits_mlp", "early_terminate": early_terminate})
    assert sweep.scheduler.type == "wandb_hyperband" and sweep.scheduler.options == expected


def test_early_terminate_needs_s_with_max_iter():
    with pytest.raises(raysearch.SpecError, match="early_terminate.s"):
        load_spec({"trainable": "digits_mlp",
                   "early_terminate": {"type": "hyperband", "max_iter": 27}})


NESTED = textwrap.dedent("""
    from ray import tune

    def nested(config):
        opt = config["optimizer"]
        assert isinstance(opt, dict), config
        tune.report({"loss": (opt["lr"] - 0.01) ** 2 + (0 if opt["kind"] == "adam" else 1)})
""")


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("method", ["random", "hyperopt", "bayes"])
def test_nested_parameters_reach_the_function_as_dicts(method, tmp_path, storage):
    module = tmp_path / "nested.py"
    module.write_text(NESTED)
    result = raysearch.run({
        "trainable": f"{module}:nested", "method": method, "run_cap": 3, "seed": 0,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"optimizer": {"parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
            "kind": {"values": ["adam", "sgd"]}}}}}, storage=storage, quiet=True)
    assert result.counts["completed"] == 3, result.trials.to_pylist()
    assert {"config.optimizer.lr", "config.optimizer.kind"} <= set(result.trials.column_names)
    assert set(result.best.config["optimizer"]) == {"lr", "kind"}


def test_resolved_spec_round_trips_through_yaml():
    ported = f"{EXAMPLES / 'wandb' / 'ported.py'}:train"  # the sweep file's parameters
    sweep = load_spec(yaml.safe_load(WANDB_SWEEP.read_text()) | {"trainable": ported})
    assert load_spec(yaml.safe_load(yaml.safe_dump(sweep.resolved))).resolved == sweep.resolved
