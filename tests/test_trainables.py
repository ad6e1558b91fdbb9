"""The shipped trainables' data and checkpoint contents (the contract every trainable passes,
retry from its own checkpoint included, is in test_contracts.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import raysearch
from tests.conftest import digits_spec
from trainables.data import DEBIAN_FASHION_MNIST, digits, fashion_mnist, read_idx
from trainables.loop import STATE_FILE


def test_fashion_mnist_is_the_real_dataset():
    data = fashion_mnist(download=False)
    # validation carved from the 60k training images (seeded); the official test set held out
    assert data.x_train.shape == (50000, 28, 28) and data.x_val.shape == (10000, 28, 28)
    assert data.x_test.shape == (10000, 28, 28)
    assert data.x_train.dtype == np.uint8 and sorted(np.unique(data.y_train)) == list(range(10))
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert np.bincount(np.concatenate([data.y_train, data.y_val])).tolist() == [6000] * 10
    assert np.array_equal(fashion_mnist(download=False).y_val, data.y_val)  # same split
    # our decoder agrees with the file's own header-declared layout
    (labels,) = DEBIAN_FASHION_MNIST.glob("t10k-labels*")
    raw = read_idx(labels)
    assert raw.shape == (10000,)
    assert abs(data.x_train.mean() / 255 - data.mean) < 0.01


def test_digits_split_is_deterministic():
    a, b = digits(), digits()
    assert np.array_equal(a.y_val, b.y_val) and np.array_equal(a.y_test, b.y_test)
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 1797


@pytest.mark.usefixtures("ray_session")
def test_the_best_checkpoint_is_measured_once_on_the_held_out_test_set(storage, capsys):
    """Trials are chosen on validation; after the sweep the best trial's checkpoint is
    evaluated on the test set, in the summary, the report and `raysearch evaluate`."""
    import json

    from raysearch.cli import main

    result = raysearch.run(digits_spec(run_cap=2), storage=storage, quiet=True)
    test = result.test
    best = result.best
    assert test["trial_id"] == best.trial_id and test["iteration"] == best.checkpoint_iteration
    assert 0.5 < test["test_accuracy"] <= 1 and test["test_loss"] > 0
    assert "Held-out test set" in (Path(result.path) / "report.html").read_text()
    # the same figure again from the run folder alone (the evaluation is deterministic)
    summary = json.loads((Path(result.path) / "summary.json").read_text())
    del summary["test"]
    (Path(result.path) / "summary.json").write_text(json.dumps(summary))
    capsys.readouterr()
    assert main(["evaluate", result.path]) == 0
    assert "held-out test set" in capsys.readouterr().out
    assert raysearch.load(result.path).test == test


@pytest.mark.usefixtures("ray_session")
def test_checkpoint_holds_model_optimizer_and_epoch(storage):
    result = raysearch.run(digits_spec(run_cap=1, parameters={
        **digits_spec()["parameters"], "lr": {"value": 3e-3}}), storage=storage, quiet=True)
    (trial,) = result.trials.to_pylist()
    state = torch.load(f"{trial['checkpoint']}/{STATE_FILE}", weights_only=False)
    assert state["epoch"] == 2 and set(state) >= {"model", "optimizer", "epoch"}
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(3e-3)


def test_cosine_schedule_anneals_the_learning_rate_over_the_epochs():
    from trainables.loop import lr_at

    config = {"lr": 0.01, "lr_schedule": "cosine"}
    rates = [lr_at(config, epoch, 4) for epoch in range(4)]
    assert rates[0] == pytest.approx(0.01) and rates == sorted(rates, reverse=True)
    assert rates[2] == pytest.approx(0.005) and rates[3] > 0
    assert lr_at({"lr": 0.01}, 3, 4) == 0.01  # constant by default
    with pytest.raises(ValueError, match="lr_schedule must be constant or cosine"):
        lr_at({"lr": 0.01, "lr_schedule": "step"}, 0, 4)


@pytest.mark.usefixtures("ray_session")
def test_convnet_with_batch_norm_and_a_hidden_head_trains_on_digits(storage):
    """The options examples/cnn.yaml uses: a checkpoint's optimizer holds the epoch's
    annealed learning rate, and the network has the layers asked for."""
    from trainables.classifiers import _cnn, fashion_mnist_cnn
    from trainables.data import digits

    data = digits()
    config = {"lr": 5e-3, "channels": 8, "kernel_size": 3, "optimizer": "adam", "dropout": 0.1,
              "batch_norm": True, "head_size": 32, "lr_schedule": "cosine", "batch_size": 64,
              "epochs": 4}
    kinds = [type(m).__name__ for m in _cnn(config, data).modules()]
    assert kinds.count("BatchNorm2d") == 2 and kinds.count("Linear") == 2
    assert "BatchNorm2d" not in [type(m).__name__ for m in _cnn(
        {**config, "batch_norm": False, "head_size": 0}, data).modules()]
    def digits_cnn(config: dict) -> None:  # the ConvNet on 8x8 digits: seconds, not minutes
        fashion_mnist_cnn(config, data=digits())

    result = raysearch.run({"trainable": digits_cnn,
                            "metric": {"name": "val_accuracy", "goal": "maximize"},
                            "run_cap": 1, "parameters": {k: {"value": v}
                                                         for k, v in config.items()}},
                           storage=storage, quiet=True)
    (trial,) = result.trials.to_pylist()
    assert trial["status"] == "completed" and trial["final.val_accuracy"] > 0.5
    state = torch.load(f"{trial['checkpoint']}/{STATE_FILE}", weights_only=False)
    # the last epoch (the fourth) trained at lr * (1 + cos(3 pi / 4)) / 2
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(
        5e-3 * (1 + math.cos(3 * math.pi / 4)) / 2)
