"""The shipped trainables' data and checkpoint contents (the contract every trainable passes,
retry from its own checkpoint included, is in test_contracts.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import raysearch
from tests.conftest import digits_spec
from trainables.data import DEBIAN_FASHION_MNIST, digits, fashion_mnist, read_idx
from trainables.loop import STATE_FILE


def test_fashion_mnist_is_the_real_dataset():
    data = fashion_mnist(download=False)
    assert data.x_train.shape == (60000, 28, 28) and data.x_val.shape == (10000, 28, 28)
    assert data.x_train.dtype == np.uint8 and sorted(np.unique(data.y_train)) == list(range(10))
    assert np.bincount(data.y_val).tolist() == [1000] * 10
    # our decoder agrees with the file's own header-declared layout
    (labels,) = DEBIAN_FASHION_MNIST.glob("t10k-labels*")
    raw = read_idx(labels)
    assert raw.shape == (10000,)
    assert abs(data.x_train.mean() / 255 - data.mean) < 0.01


def test_digits_split_is_deterministic():
    a, b = digits(), digits()
    assert np.array_equal(a.y_val, b.y_val) and len(a.y_train) + len(a.y_val) == 1797


@pytest.mark.usefixtures("ray_session")
def test_checkpoint_holds_model_optimizer_and_epoch(storage):
    result = raysearch.run(digits_spec(run_cap=1, parameters={
        **digits_spec()["parameters"], "lr": {"value": 3e-3}}), storage=storage, quiet=True)
    (trial,) = result.trials.to_pylist()
    state = torch.load(f"{trial['checkpoint']}/{STATE_FILE}", weights_only=False)
    assert state["epoch"] == 2 and set(state) >= {"model", "optimizer", "epoch"}
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(3e-3)
