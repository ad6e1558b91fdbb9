"""The shipped training functions. Each takes Ray Tune's `config` and, through
`tune.with_parameters`, the dataset (loaded once on the driver) and the checkpoint interval.
Called without `data` (plain Ray Tune use), each loads its own data."""

from __future__ import annotations

from trainables import data as datasets
from trainables.data import ArrayDataset
from trainables.loop import test_metrics, train_classifier
from trainables.models import FNN, ConvNet


def _fnn(config: dict, data: ArrayDataset) -> FNN:
    return FNN(data.num_features, int(config["hidden_size"]), int(config["num_layers"]),
               data.num_classes, float(config.get("dropout", 0.0)))


def _cnn(config: dict, data: ArrayDataset) -> ConvNet:
    return ConvNet(data.image_shape, int(config["channels"]), int(config["kernel_size"]),
                   data.num_classes, float(config.get("dropout", 0.0)),
                   batch_norm=bool(config.get("batch_norm", False)),
                   head_size=int(config.get("head_size", 0)))


def fashion_mnist_mlp(config: dict, data: ArrayDataset | None = None,
                      checkpoint_every: int = 1) -> None:
    """config: lr, num_layers, hidden_size, optimizer (adam|sgd), dropout, batch_size, epochs;
    optional lr_schedule (constant|cosine)."""
    train_classifier(config, data or datasets.fashion_mnist(), _fnn, checkpoint_every)


def fashion_mnist_cnn(config: dict, data: ArrayDataset | None = None,
                      checkpoint_every: int = 1) -> None:
    """config: lr, channels, kernel_size, optimizer, dropout, batch_size, epochs; optional
    batch_norm (false), head_size (0: a linear head), lr_schedule (constant|cosine)."""
    train_classifier(config, data or datasets.fashion_mnist(), _cnn, checkpoint_every,
                     flat=False)


def digits_mlp(config: dict, data: ArrayDataset | None = None,
               checkpoint_every: int = 1) -> None:
    """The FNN on scikit-learn's digits; same config keys as fashion_mnist_mlp."""
    train_classifier(config, data or datasets.digits(), _fnn, checkpoint_every)


# The held-out test set, for the best trial's checkpoint after the sweep (TRAINABLES' `evaluate`)
def test_fnn(config: dict, checkpoint_dir: str, data: ArrayDataset) -> dict[str, float]:
    return test_metrics(config, checkpoint_dir, data, _fnn)


def test_cnn(config: dict, checkpoint_dir: str, data: ArrayDataset) -> dict[str, float]:
    return test_metrics(config, checkpoint_dir, data, _cnn, flat=False)
