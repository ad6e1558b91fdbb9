"""A training function as the seed tutorial writes one: its own `SummaryWriter()` (event files
under ./runs/ in its working directory) and a file of its own, beside `tune.report`."""

import os

from ray import tune
from torch.utils.tensorboard import SummaryWriter


def train(config: dict) -> None:
    writer = SummaryWriter()
    with open("notes.txt", "w") as f:
        f.write(f"lr={config['lr']}\n")
    for step in range(3):
        loss = config["lr"] * (3 - step)
        writer.add_scalar("loss", loss, step)
        tune.report({"loss": loss, "worker_pid": os.getpid()})
    writer.close()
