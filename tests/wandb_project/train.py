"""A training script as the W&B sweeps documentation writes one (module-level argparse,
`wandb.init` inside `train()` with the parsed defaults as config, `wandb.config` read back,
`wandb.log` per batch and per epoch). raysearch runs it unchanged: tests/test_wandb_program.py."""

import argparse

import torch
import wandb
from sklearn.datasets import load_digits
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.01)
parser.add_argument("--optimizer", type=str, default="adam")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--hidden", type=int, default=32)
parser.add_argument("--fail", type=str, default="no")
args = parser.parse_args()


def train() -> None:
    with wandb.init(project="digits-sweeps", config=vars(args)) as run:
        config = wandb.config
        if config.fail == "yes":
            raise RuntimeError("this configuration crashes on purpose")
        torch.manual_seed(0)
        torch.set_num_threads(1)
        x, y = load_digits(return_X_y=True)
        x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
        x_train, y_train, x_val, y_val = x[:1400], y[:1400], x[1400:], y[1400:]
        model = nn.Sequential(nn.Linear(64, config.hidden), nn.ReLU(),
                              nn.Linear(config.hidden, 10))
        optimizer = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[config.optimizer](
            model.parameters(), lr=config.learning_rate)
        for epoch in range(config.epochs):
            for i in range(0, len(y_train), 128):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(x_train[i:i + 128]),
                                                   y_train[i:i + 128])
                loss.backward()
                optimizer.step()
                wandb.log({"batch_loss": loss.item()})
            with torch.no_grad():
                logits = model(x_val)
                val_loss = nn.functional.cross_entropy(logits, y_val)
                accuracy = (logits.argmax(1) == y_val).float().mean()
            wandb.log({"epoch": epoch, "val_loss": val_loss, "val_accuracy": accuracy})
        run.summary["final_accuracy"] = float(accuracy)


if __name__ == "__main__":
    train()
