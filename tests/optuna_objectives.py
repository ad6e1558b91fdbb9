"""Optuna objectives as Optuna users write them (the seed tutorial's kind: a small MLP on
digits, `suggest_float(..., log=True)`, `trial.report` + `trial.should_prune`), used unchanged
by tests/test_optuna.py and by `raysearch optuna` in subprocesses."""

from __future__ import annotations

import math
import os
import time

import optuna
import torch
from sklearn.datasets import load_digits
from torch import nn

EPOCHS = 6


def _data():
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    return x[:1400], y[:1400], x[1400:], y[1400:]


def _train(model: nn.Module, lr: float, trial: optuna.Trial | None, epochs: int = EPOCHS,
           batch_size: int = 64) -> float:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x, y, xv, yv = _data()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    accuracy = 0.0
    for epoch in range(epochs):
        model.train()
        for i in range(0, len(y), batch_size):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i:i + batch_size]), y[i:i + batch_size]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(xv).argmax(1) == yv).float().mean().item()
        if trial is not None:
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
    return accuracy


def digits_mlp(trial: optuna.Trial) -> float:
    """Validation accuracy of an MLP on digits (maximize), pruned per epoch."""
    n_layers = trial.suggest_int("n_layers", 1, 2)
    layers: list[nn.Module] = []
    width = 64
    for i in range(n_layers):
        hidden = trial.suggest_int(f"n_units_l{i}", 4, 64, log=True)
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, 10))
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    return _train(nn.Sequential(*layers), lr, trial)


def conditional(trial: optuna.Trial) -> float:
    """A conditional space (which parameters exist depends on `model`), user attributes, and
    one failure on purpose (a too-small learning rate raises, as a user's bug would)."""
    model = trial.suggest_categorical("model", ["linear", "mlp"])
    if model == "mlp":
        hidden = trial.suggest_int("hidden", 8, 32)
        net: nn.Module = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    else:
        net = nn.Linear(64, 10)
    lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
    trial.set_user_attr("model_kind", model)
    trial.set_user_attr("number_seen_inside", trial.number)
    if trial.user_attrs.get("fail"):
        raise RuntimeError("asked to fail")
    return _train(net, lr, None, epochs=2)


def two_objectives(trial: optuna.Trial) -> tuple[float, float]:
    """Accuracy (maximize) and parameter count (minimize): an NSGA-II study."""
    hidden = trial.suggest_int("hidden", 4, 64, log=True)
    net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    accuracy = _train(net, trial.suggest_float("lr", 1e-3, 1e-1, log=True), None, epochs=2)
    return accuracy, float(sum(p.numel() for p in net.parameters()))


def quadratic(trial: optuna.Trial) -> float:
    """No training, every kind of suggest: for comparing suggestions with study.optimize."""
    x = trial.suggest_float("x", -10, 10)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    q = trial.suggest_float("q", 0, 1, step=0.1)
    n = trial.suggest_int("n", 1, 100, log=True)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return (x - 2) ** 2 + math.log10(lr) ** 2 + q + n / 100 + (c == "b")


def slow_quadratic(trial: optuna.Trial) -> float:
    """A second per trial (a driver can be killed while trials run)."""
    x = trial.suggest_float("x", -10, 10)
    time.sleep(float(os.environ.get("SLOW_OBJECTIVE_S", "1.0")))
    return (x - 2) ** 2
