"""A Syne Tune trial (bench/contenders.py, `syne tune ...`): Syne Tune's local backend runs
this script once per trial with the config as `--name value` arguments, as its users write
one; it trains the race's MLP and reports every epoch through Syne Tune's Reporter."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from syne_tune import Reporter  # noqa: E402

from bench.contenders import CallbackSession  # noqa: E402
from trainables.classifiers import _fnn  # noqa: E402
from trainables.data import fashion_mnist  # noqa: E402
from trainables.loop import train_classifier  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    for name, kind in (("lr", float), ("num_layers", int), ("hidden_size", int),
                       ("batch_size", int), ("epochs", int), ("dropout", float),
                       ("optimizer", str)):
        parser.add_argument(f"--{name}", type=kind, required=True)
    config = vars(parser.parse_known_args()[0])
    torch.set_num_threads(1)  # two trials on two cores, one thread each, as every contender
    report = Reporter()
    train_classifier(config, fashion_mnist(download=False), _fnn,
                     session=CallbackSession(lambda metrics: report(
                         epoch=metrics["epoch"], val_accuracy=metrics["val_accuracy"])))


if __name__ == "__main__":
    main()
