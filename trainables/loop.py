"""One training loop for every shipped classifier: plain Ray Tune (`tune.report`,
`tune.get_checkpoint`), so PBT exploits, failed-trial retries and resumed sweeps all go through
the same checkpoint restore.

Data arrive as arrays (from the object store); each epoch shuffles indices and slices whole
batches out of one in-memory tensor, with no DataLoader or per-sample transform.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import ray
import torch
from ray import tune
from torch import nn

from trainables import LR_SCHEDULES, OPTIMIZERS
from trainables.data import ArrayDataset

STATE_FILE = "state.pt"
EVAL_BATCH = 4096


def config_seed(config: dict) -> int:
    """`config["seed"]` when given, else a stable hash of the config: same config, same run."""
    if "seed" in config:
        return int(config["seed"])
    return zlib.crc32(json.dumps(config, sort_keys=True, default=str).encode())


def trial_threads() -> int:
    """CPU threads torch may use: the CPUs Ray assigned to this trial (1 outside Tune)."""
    try:
        cpus = tune.get_context().get_trial_resources().required_resources.get("CPU", 1)
    except Exception:  # not inside a Tune trial
        return torch.get_num_threads()
    return max(1, int(cpus))


def device() -> torch.device:
    """CUDA when Ray gave this trial a GPU (torch sees it), CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_tensors(data: ArrayDataset, dev: torch.device, flat: bool):
    """Normalised float32 tensors on `dev`: done once per trial, not per sample."""
    shape = (-1, data.num_features) if flat else (-1, *data.image_shape)

    def prep(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.asarray(x, dtype=np.float32)).reshape(shape)
        return ((t / data.scale - data.mean) / data.std).to(dev)

    return (prep(data.x_train), torch.from_numpy(np.asarray(data.y_train)).to(dev),
            prep(data.x_val), torch.from_numpy(np.asarray(data.y_val)).to(dev))


def make_optimizer(config: dict, model: nn.Module) -> torch.optim.Optimizer:
    name = config.get("optimizer", "adam")
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=config["lr"])
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config["lr"],
                               momentum=config.get("momentum", 0.9))
    raise ValueError(f"optimizer must be {' or '.join(OPTIMIZERS)}, got {name!r}")


def lr_at(config: dict, epoch: int, epochs: int) -> float:
    """The learning rate for 0-based `epoch`: `lr` throughout (`lr_schedule: constant`, the
    default), or annealed from `lr` towards 0 over the trial's `epochs` (`cosine`)."""
    schedule = config.get("lr_schedule", "constant")
    if schedule == "constant":
        return float(config["lr"])
    if schedule == "cosine":
        return float(config["lr"]) * 0.5 * (1 + math.cos(math.pi * epoch / max(1, epochs)))
    raise ValueError(f"lr_schedule must be {' or '.join(LR_SCHEDULES)}, got {schedule!r}")


def apply_config(optimizer: torch.optim.Optimizer, config: dict, epoch: int,
                 epochs: int) -> None:
    """Set the epoch's learning rate from the config in force, not the optimizer's state:
    after a restore that carries the donor's lr (this is how a PBT mutation of lr takes
    effect), and every epoch under a schedule."""
    for group in optimizer.param_groups:
        group["lr"] = lr_at(config, epoch, epochs)
        if "momentum" in group and "momentum" in config:
            group["momentum"] = config["momentum"]


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), EVAL_BATCH):
            out = model(x[i:i + EVAL_BATCH])
            loss += nn.functional.cross_entropy(out, y[i:i + EVAL_BATCH], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + EVAL_BATCH]).sum().item()
    return loss / len(y), correct / len(y)


def test_metrics(config: dict, checkpoint_dir: str, data: ArrayDataset,
                 build_model: Callable[[dict, ArrayDataset], nn.Module],
                 flat: bool = True) -> dict[str, float]:
    """A checkpoint's loss and accuracy on the held-out test set (used once, after the sweep:
    never to choose between trials)."""
    if data.x_test is None:
        raise ValueError(f"{data.name} has no held-out test set")
    state = torch.load(Path(checkpoint_dir) / STATE_FILE, map_location="cpu",
                       weights_only=False)
    model = build_model(config, data)
    model.load_state_dict(state["model"])
    test = dataclasses.replace(data, x_train=data.x_test[:1], y_train=data.y_test[:1],
                               x_val=data.x_test, y_val=data.y_test)
    _, _, x, y = to_tensors(test, torch.device("cpu"), flat)
    loss, accuracy = evaluate(model, x, y)
    return {"test_loss": loss, "test_accuracy": accuracy}


class TuneSession:
    """Where the loop reports to: Ray Tune. Other sessions (an Optuna objective, a benchmark
    timer) implement the same three methods, so every tool trains with the same loop."""

    checkpoints = True

    def restore(self) -> dict | None:
        checkpoint = tune.get_checkpoint()
        if checkpoint is None:
            return None
        with checkpoint.as_directory() as folder:
            return torch.load(Path(folder) / STATE_FILE, map_location="cpu", weights_only=False)

    def report(self, metrics: dict, state: dict | None) -> None:
        if state is None:
            tune.report(metrics)
            return
        with tempfile.TemporaryDirectory() as folder:
            torch.save(state, Path(folder) / STATE_FILE)
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))

    def trial_id(self) -> str | None:
        try:
            return tune.get_context().get_trial_id()
        except Exception:
            return None


def train_classifier(config: dict, data: ArrayDataset,
                     build_model: Callable[[dict, ArrayDataset], nn.Module],
                     checkpoint_every: int = 1, flat: bool = True,
                     session: Any = None) -> None:
    """Train `build_model(config, data)` for `config["epochs"]`, reporting every epoch."""
    session = session or TuneSession()
    seed = config_seed(config)
    torch.manual_seed(seed)
    torch.set_num_threads(trial_threads())
    dev = device()
    x_train, y_train, x_val, y_val = to_tensors(data, dev, flat)
    model = build_model(config, data).to(dev)
    optimizer = make_optimizer(config, model)
    start_epoch = 0
    state = session.restore()
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch = state["epoch"]

    batch_size, epochs = int(config["batch_size"]), int(config["epochs"])
    node_id = ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    shuffle = torch.Generator().manual_seed(seed)
    for epoch in range(start_epoch, epochs):
        apply_config(optimizer, config, epoch, epochs)
        model.train()
        order = torch.randperm(len(y_train), generator=shuffle).to(dev)
        total, batches = 0.0, 0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        val_loss, val_accuracy = evaluate(model, x_val, y_val)
        metrics: dict[str, Any] = {"epoch": epoch + 1, "train_loss": total / batches,
                                   "val_loss": val_loss, "val_accuracy": val_accuracy,
                                   "node_id": node_id}
        checkpoint_now = (epoch + 1) % checkpoint_every == 0 or epoch + 1 == epochs
        state = ({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "epoch": epoch + 1, "trial_id": session.trial_id()}
                 if checkpoint_now and session.checkpoints else None)
        session.report(metrics, state)
