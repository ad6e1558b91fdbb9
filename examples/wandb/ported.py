"""examples/wandb/train.py ported to a Ray Tune function, for users who would rather run it
in-process (`raysearch run sweep.yaml --trainable examples/wandb/ported.py:train`):
`wandb.config` becomes the `config` argument, `wandb.log(...)` becomes `tune.report(...)`."""

from __future__ import annotations

import torch
from ray import tune
from sklearn.datasets import load_digits
from torch import nn


def train(config: dict) -> None:
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    x_train, y_train, x_val, y_val = x[:1400], y[:1400], x[1400:], y[1400:]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer_class = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[config["optimizer"]]
    optimizer = optimizer_class(model.parameters(), lr=config["learning_rate"])
    for epoch in range(config["epochs"]):
        for i in range(0, len(y_train), 64):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x_train[i:i + 64]), y_train[i:i + 64]).backward()
            optimizer.step()
        with torch.no_grad():
            logits = model(x_val)
            tune.report({"epoch": epoch + 1,
                         "validation_loss": nn.functional.cross_entropy(logits, y_val).item(),
                         "accuracy": (logits.argmax(1) == y_val).float().mean().item()})
