"""The notebook path of W&B's PyTorch sweep tutorial, with the one changed line
(`import raysearch.wandb as wandb`): a sweep configuration as a dict, `train(config=None)` that
calls `wandb.init(config=config)` and reads `wandb.config`, `wandb.log` per epoch."""

import torch
from sklearn.datasets import load_digits
from torch import nn

import raysearch.wandb as wandb  # was: import wandb

sweep_config = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "optimizer": {"values": ["adam", "sgd"]},
        "fc_layer_size": {"values": [16, 32]},
        "learning_rate": {"distribution": "uniform", "min": 0.001, "max": 0.1},
        "epochs": {"value": 2},
    },
}


def train(config=None):
    with wandb.init(config=config):
        config = wandb.config
        torch.manual_seed(0)
        torch.set_num_threads(1)
        x, y = load_digits(return_X_y=True)
        x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
        network = nn.Sequential(nn.Linear(64, config.fc_layer_size), nn.ReLU(),
                                nn.Linear(config.fc_layer_size, 10))
        optimizer = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[config.optimizer](
            network.parameters(), lr=config.learning_rate)
        for epoch in range(config.epochs):
            cumu_loss = 0.0
            for i in range(0, 1400, 128):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(network(x[i:i + 128]), y[i:i + 128])
                cumu_loss += loss.item()
                loss.backward()
                optimizer.step()
                wandb.log({"batch loss": loss.item()})
            wandb.log({"loss": cumu_loss / 11, "epoch": epoch})
