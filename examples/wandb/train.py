"""A W&B training script, as W&B's documentation writes one: raysearch runs it unchanged,
`raysearch run examples/wandb/sweep.yaml` (each trial runs `python train.py --learning_rate=...
--optimizer=... --epochs=...`; `import wandb` is raysearch's offline stand-in there)."""

import argparse

import torch
import wandb
from sklearn.datasets import load_digits
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.01)
parser.add_argument("--optimizer", type=str, default="adam")
parser.add_argument("--epochs", type=int, default=4)
args = parser.parse_args()

run = wandb.init(project="digits", config=vars(args))
config = wandb.config

x, y = load_digits(return_X_y=True)
x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
x_train, y_train, x_val, y_val = x[:1400], y[:1400], x[1400:], y[1400:]
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[config.optimizer](
    model.parameters(), lr=config.learning_rate)
for epoch in range(config.epochs):
    for i in range(0, len(y_train), 64):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x_train[i:i + 64]), y_train[i:i + 64])
        loss.backward()
        optimizer.step()
        wandb.log({"train_loss": loss.item()})
    with torch.no_grad():
        logits = model(x_val)
        wandb.log({"epoch": epoch + 1,
                   "validation_loss": nn.functional.cross_entropy(logits, y_val).item(),
                   "accuracy": (logits.argmax(1) == y_val).float().mean().item()})
run.finish()
