"""The trainables raysearch ships: a plug-in package on raysearch's published layer.

Each is a plain Ray Tune function trainable, registered by "module:function" so listing and
validating them loads neither torch nor Ray. `raysearch.testing.check_trainable` runs any entry
(yours too) through the same contract: reports its metrics every epoch, checkpoints, restores.
"""

from __future__ import annotations

from raysearch.registry import TRAINABLES
from raysearch.types import Metric

METRICS = ("train_loss", "val_loss", "val_accuracy", "epoch")
# What a checkpoint can continue under: optimiser and regularisation settings, not the shape.
MUTABLE = ("lr", "momentum", "dropout", "batch_size")
OPTIMIZERS = ("adam", "sgd")
LR_SCHEDULES = ("constant", "cosine")
_CLASSIFIER = {"metric": Metric("val_accuracy", "maximize"), "metrics": METRICS,
               "mutable": MUTABLE,
               "choices": {"optimizer": OPTIMIZERS, "lr_schedule": LR_SCHEDULES}}
_TRAINING_RANGES = {"lr": {"gt": 0}, "momentum": {"min": 0}, "dropout": {"min": 0, "max": 1},
                    "batch_size": {"min": 1}, "epochs": {"min": 1}}
_FNN_RANGES = {**_TRAINING_RANGES, "num_layers": {"min": 0}, "hidden_size": {"min": 1}}
_CNN_RANGES = {**_TRAINING_RANGES, "channels": {"min": 1}, "kernel_size": {"min": 1},
               "head_size": {"min": 0}}
# What the training loop reads (trainables.loop): without a default, then with one.
_TRAINING_NEEDS = ("lr", "batch_size", "epochs")
_TRAINING_READS = (*_TRAINING_NEEDS, "optimizer", "momentum", "lr_schedule", "dropout", "seed")
_FNN_READS = {"needs": (*_TRAINING_NEEDS, "num_layers", "hidden_size"),
              "reads": (*_TRAINING_READS, "num_layers", "hidden_size")}
_CNN_READS = {"needs": (*_TRAINING_NEEDS, "channels", "kernel_size"),
              "reads": (*_TRAINING_READS, "channels", "kernel_size", "batch_norm", "head_size")}

__all__ = ["LR_SCHEDULES", "METRICS", "MUTABLE", "OPTIMIZERS"]

TRAINABLES.register(
    "fashion_mnist_mlp", "trainables.classifiers:fashion_mnist_mlp",
    load_data="trainables.data:fashion_mnist", evaluate="trainables.classifiers:test_fnn",
    **_CLASSIFIER, ranges=_FNN_RANGES, **_FNN_READS,
    description="The tutorial's feed-forward net on Fashion-MNIST (50k train / 10k val carved "
                "from train; the 10k test set held out for the best checkpoint).",
    default_parameters={
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "num_layers": {"values": [1, 2, 3]},
        "hidden_size": {"distribution": "q_log_uniform_values", "min": 32, "max": 512, "q": 32},
        "optimizer": {"values": ["adam", "sgd"]},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5},
        "batch_size": {"values": [64, 128, 256]},
        "epochs": {"value": 5},
    })
TRAINABLES.register(
    "fashion_mnist_cnn", "trainables.classifiers:fashion_mnist_cnn",
    load_data="trainables.data:fashion_mnist", evaluate="trainables.classifiers:test_cnn",
    **_CLASSIFIER, ranges=_CNN_RANGES, **_CNN_READS,
    description="A small two-block ConvNet on Fashion-MNIST.",
    default_parameters={
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
        "channels": {"values": [8, 16, 32]},
        "kernel_size": {"values": [3, 5]},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5},
        "optimizer": {"value": "adam"},
        "batch_size": {"values": [128, 256]},
        "epochs": {"value": 3},
    })
TRAINABLES.register(
    "digits_mlp", "trainables.classifiers:digits_mlp",
    load_data="trainables.data:digits", evaluate="trainables.classifiers:test_fnn",
    **_CLASSIFIER, ranges=_FNN_RANGES, **_FNN_READS,
    description="The feed-forward net on scikit-learn's bundled 8x8 digits: seconds per trial.",
    default_parameters={
        "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
        "num_layers": {"values": [1, 2]},
        "hidden_size": {"values": [32, 64, 128]},
        "optimizer": {"value": "adam"},
        "dropout": {"value": 0.0},
        "batch_size": {"value": 64},
        "epochs": {"value": 5},
    })
