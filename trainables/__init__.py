"""The trainables raysearch ships, by name. Each is a plain Ray Tune function trainable.

Add one with `register(TrainableInfo(...))`; the contract test in tests/test_trainables.py runs
every entry through the same checks (reports, checkpoints, restores).
"""

from __future__ import annotations

from raysearch.spec import Metric
from raysearch.targets import TrainableInfo
from trainables import data
from trainables.classifiers import digits_mlp, fashion_mnist_cnn, fashion_mnist_mlp

REGISTRY: dict[str, TrainableInfo] = {}
METRICS = ("train_loss", "val_loss", "val_accuracy", "epoch")
# What a checkpoint can continue under: optimiser and regularisation settings, not the shape.
MUTABLE = ("lr", "momentum", "dropout", "batch_size")

__all__ = ["REGISTRY", "register", "fashion_mnist_mlp", "fashion_mnist_cnn", "digits_mlp"]


def register(info: TrainableInfo) -> TrainableInfo:
    REGISTRY[info.name] = info
    return info


register(TrainableInfo(
    name="fashion_mnist_mlp", function=fashion_mnist_mlp, target="fashion_mnist_mlp",
    load_data=data.fashion_mnist, metric=Metric("val_accuracy", "maximize"), metrics=METRICS, mutable=MUTABLE,
    description="The tutorial's feed-forward net on Fashion-MNIST (60k train / 10k val).",
    default_parameters={
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "num_layers": {"values": [1, 2, 3]},
        "hidden_size": {"distribution": "q_log_uniform_values", "min": 32, "max": 512, "q": 32},
        "optimizer": {"values": ["adam", "sgd"]},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5},
        "batch_size": {"values": [64, 128, 256]},
        "epochs": {"value": 5},
    }))
register(TrainableInfo(
    name="fashion_mnist_cnn", function=fashion_mnist_cnn, target="fashion_mnist_cnn",
    load_data=data.fashion_mnist, metric=Metric("val_accuracy", "maximize"), metrics=METRICS, mutable=MUTABLE,
    description="A small two-block ConvNet on Fashion-MNIST.",
    default_parameters={
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
        "channels": {"values": [8, 16, 32]},
        "kernel_size": {"values": [3, 5]},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5},
        "optimizer": {"value": "adam"},
        "batch_size": {"values": [128, 256]},
        "epochs": {"value": 3},
    }))
register(TrainableInfo(
    name="digits_mlp", function=digits_mlp, target="digits_mlp",
    load_data=data.digits, metric=Metric("val_accuracy", "maximize"), metrics=METRICS, mutable=MUTABLE,
    description="The feed-forward net on scikit-learn's bundled 8x8 digits: seconds per trial.",
    default_parameters={
        "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
        "num_layers": {"values": [1, 2]},
        "hidden_size": {"values": [32, 64, 128]},
        "optimizer": {"value": "adam"},
        "dropout": {"value": 0.0},
        "batch_size": {"value": 64},
        "epochs": {"value": 5},
    }))
