"""Datasets as in-memory arrays: decoded once on the driver, shared with every trial through
Ray's object store (`tune.with_parameters`), sliced by index in the training loop.

Honest splits: trials are selected on a validation set carved from the training data (seeded),
and the held-out test set is used once, for the best trial's checkpoint after the sweep
(`trainables.classifiers.test_*`): selecting on the test set would report an optimistic
accuracy.

Fashion-MNIST comes from Debian's `dataset-fashion-mnist` when installed, else from a
torchvision-layout folder, else it is downloaded with torchvision (the path for users online).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
CACHE = Path.home() / ".cache" / "raysearch"
_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
          "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
FASHION_VAL = 10_000  # of the 60k training images, held out for validation (seeded)


@dataclass(frozen=True)
class ArrayDataset:
    """Train/validation/test arrays (`x` uint8 or float32, `y` int64) plus how to normalise
    `x`. Trials see train and validation; test is for the final evaluation only."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    scale: float  # x / scale is in [0, 1]
    mean: float
    std: float
    image_shape: tuple[int, int, int]
    num_classes: int
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def num_features(self) -> int:
        return int(np.prod(self.image_shape))


def fashion_mnist(root: str | Path | None = None, download: bool = True) -> ArrayDataset:
    """Fashion-MNIST: 50k train and 10k validation (a seeded split of the 60k training
    images), the official 10k test set held out. Looks in `root`, Debian's package, then the
    torchvision cache; downloads there only when none has it."""
    candidates = [Path(root)] if root else []
    candidates += [DEBIAN_FASHION_MNIST, CACHE / "FashionMNIST" / "raw"]
    for folder in candidates:
        found = {k: _find_idx(folder, stem) for k, stem in _FILES.items()}
        if all(found.values()):
            return _fashion_from(found)
    if not download:
        raise FileNotFoundError(
            f"Fashion-MNIST not found in {', '.join(map(str, candidates))}; install Debian's "
            f"dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or allow download")
    from torchvision.datasets import FashionMNIST

    FashionMNIST(str(CACHE), train=True, download=True)
    FashionMNIST(str(CACHE), train=False, download=True)
    return fashion_mnist(CACHE / "FashionMNIST" / "raw", download=False)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) as a numpy array, decoded in one go."""
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _fashion_from(paths: dict[str, Path], seed: int = 0) -> ArrayDataset:
    arrays = {k: read_idx(p) for k, p in paths.items()}
    order = np.random.default_rng(seed).permutation(len(arrays["y_train"]))
    val, train = order[:FASHION_VAL], order[FASHION_VAL:]
    x, y = arrays["x_train"], arrays["y_train"].astype(np.int64)
    return ArrayDataset(
        name="fashion_mnist", x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
        x_test=arrays["x_test"], y_test=arrays["y_test"].astype(np.int64),
        scale=255.0, mean=0.2860, std=0.3530, image_shape=(1, 28, 28), num_classes=10)


def digits(val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0
           ) -> ArrayDataset:
    """scikit-learn's bundled 8x8 digits (1,797 images), split train/validation/test (seeded):
    seconds-long sweeps for tests."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.uint8)  # values 0..16
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_val, n_test = int(len(y) * val_fraction), int(len(y) * test_fraction)
    val, test, train = order[:n_val], order[n_val:n_val + n_test], order[n_val + n_test:]
    return ArrayDataset(
        name="digits", x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
        x_test=x[test], y_test=y[test],
        scale=16.0, mean=0.30, std=0.38, image_shape=(1, 8, 8), num_classes=10)
