"""Training throughput of one fashion_mnist_mlp trial (hidden 256, 3 layers, batch 256) against
the floor this CPU's float32 matmul rate sets, and against the tutorial's DataLoader loop, on 1
and 2 threads, all measured in this run.

    python -m bench.throughput --epochs 2 --out bench/results/throughput.json

Floor: (training FLOPs per epoch) / (measured matmul FLOP/s on the net's own shapes). Training
FLOPs per sample are 6 x (weights of the linear layers): 2 forward, 4 backward.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import nn

from bench.output import save
from trainables.data import fashion_mnist
from trainables.loop import train_classifier
from trainables.models import FNN

CONFIG = {"hidden_size": 256, "num_layers": 3, "batch_size": 256, "lr": 1e-3,
          "optimizer": "adam", "dropout": 0.0, "seed": 0}


class TimingSession:
    """Receives the loop's reports without Ray and times each epoch."""

    checkpoints = False

    def __init__(self) -> None:
        self.marks = [time.perf_counter()]
        self.metrics: list[dict] = []

    def restore(self) -> None:
        return None

    def report(self, metrics: dict, state: dict | None) -> None:
        self.marks.append(time.perf_counter())
        self.metrics.append(metrics)

    def trial_id(self) -> None:
        return None


def matmul_flops_per_s(batch: int, shapes: list[tuple[int, int]], seconds: float = 1.5) -> float:
    """float32 FLOP/s of x @ W for the net's layer shapes (the work an epoch is made of)."""
    xs = [torch.randn(batch, i) for i, _ in shapes]
    ws = [torch.randn(i, o) for i, o in shapes]
    flops_per_round = sum(2 * batch * i * o for i, o in shapes)
    for x, w in zip(xs, ws, strict=True):
        x @ w  # warm up
    rounds, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for x, w in zip(xs, ws, strict=True):
            x @ w
        rounds += 1
    return rounds * flops_per_round / (time.perf_counter() - start)


def ours(data, threads: int, epochs: int) -> tuple[float, float]:
    torch.set_num_threads(threads)
    session = TimingSession()

    def model(cfg, d):
        return FNN(d.num_features, cfg["hidden_size"], cfg["num_layers"], d.num_classes)

    train_classifier({**CONFIG, "epochs": epochs + 1}, data, model, session=session)
    per_epoch = [b - a for a, b in zip(session.marks[1:], session.marks[2:], strict=False)]
    return min(per_epoch), session.metrics[-1]["val_accuracy"]  # epoch 1 includes set-up


def tutorial(root: Path, threads: int) -> float:
    """One epoch of the tutorial's loop: torchvision dataset, per-sample transforms, DataLoader."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    torch.set_num_threads(threads)
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.2860,), (0.3530,))])
    loader = DataLoader(datasets.FashionMNIST(str(root), train=True, download=False,
                                              transform=transform), batch_size=256, shuffle=True)
    model = FNN(784, 256, 3, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return time.perf_counter() - start


def unpacked_fashion_mnist(target: Path) -> Path:
    """torchvision's layout (FashionMNIST/raw, un-gzipped) from Debian's files."""
    import gzip
    import shutil

    from trainables.data import DEBIAN_FASHION_MNIST

    raw = target / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for gz in DEBIAN_FASHION_MNIST.glob("*.gz"):
        out = raw / gz.name.removesuffix(".gz")
        if not out.exists():
            with gzip.open(gz) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return target


def measure(epochs: int, threads_list: list[int], data_root: Path) -> dict:
    data = fashion_mnist(download=False)
    shapes = [(784, 256), (256, 256), (256, 256), (256, 10)]
    weights = sum(i * o for i, o in shapes)
    samples = len(data.y_train)
    flops_per_epoch = 6 * weights * samples
    rows = []
    for threads in threads_list:
        torch.set_num_threads(threads)
        rate = matmul_flops_per_s(256, shapes)
        floor_s = flops_per_epoch / rate
        epoch_s, accuracy = ours(data, threads, epochs)
        tutorial_s = tutorial(data_root, threads)
        row = {"threads": threads, "matmul_gflops": round(rate / 1e9, 1),
               "floor_epoch_s": round(floor_s, 3), "ours_epoch_s": round(epoch_s, 3),
               "ours_samples_per_s": round(samples / epoch_s),
               "tutorial_epoch_s": round(tutorial_s, 3),
               "tutorial_samples_per_s": round(samples / tutorial_s),
               "fraction_of_floor": round(floor_s / epoch_s, 3),
               "speedup_over_tutorial": round(tutorial_s / epoch_s, 1),
               "val_accuracy_after": round(accuracy, 4)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return {"config": CONFIG, "flops_per_epoch": flops_per_epoch, "runs": rows}


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.epochs, args.threads, unpacked_fashion_mnist(Path(tmp)))
    save(result, args.out)


if __name__ == "__main__":
    main()
