"""Contract over every registered trainable: reports its metrics every epoch, checkpoints model,
optimizer and epoch, and a crashed trial continues from its checkpoint (Ray's real retry)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

import raysearch
from trainables import METRICS, REGISTRY
from trainables.data import DEBIAN_FASHION_MNIST, digits, fashion_mnist, read_idx
from trainables.loop import STATE_FILE

FLAKY = textwrap.dedent("""
    import dataclasses
    from pathlib import Path

    import trainables

    def subset(data, n):
        return dataclasses.replace(data, x_train=data.x_train[:n], y_train=data.y_train[:n],
                                   x_val=data.x_val[:n // 4], y_val=data.y_val[:n // 4])

    def flaky(config):
        info = trainables.REGISTRY[config["trainable"]]
        data = subset(info.load_data(), config["n"])
        marker = Path(config["marker_dir"]) / config["trainable"]
        if not marker.exists():  # first attempt: one epoch (checkpointed), then crash
            marker.touch()
            info.function({**config, "epochs": 1}, data=data, checkpoint_every=1)
            raise RuntimeError("simulated crash after epoch 1")
        info.function(config, data=data, checkpoint_every=1)
""")


@pytest.mark.usefixtures("ray_session")
def test_every_trainable_reports_checkpoints_and_restores(tmp_path, storage):
    module = tmp_path / "flaky.py"
    module.write_text(FLAKY)
    names = sorted(REGISTRY)
    result = raysearch.run(
        trainable=f"{module}:flaky", metric="val_accuracy", goal="maximize", method="grid",
        parameters={
            "trainable": {"values": names}, "n": {"value": 1200},
            "marker_dir": {"value": str(tmp_path)},
            "lr": {"value": 3e-3}, "optimizer": {"value": "adam"}, "num_layers": {"value": 1},
            "hidden_size": {"value": 32}, "channels": {"value": 4}, "kernel_size": {"value": 3},
            "batch_size": {"value": 64}, "epochs": {"value": 3}},
        max_failures=1, storage=storage, quiet=True)
    trials = {r["config.trainable"]: r for r in result.trials.to_pylist()}
    assert sorted(trials) == names
    history = result.history.to_pylist()
    for name, trial in trials.items():
        assert trial["status"] == "completed", (name, trial["error"])
        rows = sorted((r for r in history if r["trial_id"] == trial["trial_id"]),
                      key=lambda r: r["iteration"])
        assert [r["epoch"] for r in rows] == [1, 2, 3], name  # continued, not restarted
        assert all(set(METRICS) <= set(r) and r["val_loss"] > 0 for r in rows), name
        assert 0.0 <= rows[-1]["val_accuracy"] <= 1.0
        # the retry resumed from this trial's own epoch-1 checkpoint
        assert rows[1]["restored_from"] == trial["trial_id"], name
        assert rows[0]["restored_from"] is None and rows[2]["restored_from"] is None
        state = torch.load(f"{trial['checkpoint']}/{STATE_FILE}", weights_only=False)
        assert state["epoch"] == 3 and set(state) >= {"model", "optimizer", "epoch"}
        assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(3e-3)


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
