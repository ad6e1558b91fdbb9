"""The networks the shipped trainables search over."""

from __future__ import annotations

from torch import nn


class FNN(nn.Module):
    """The tutorial's feed-forward net: [Linear + ReLU (+ Dropout)] * num_layers + Linear."""

    def __init__(self, in_features: int, hidden_size: int, num_layers: int, num_classes: int,
                 dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_size), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden_size
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.flatten(1))


class ConvNet(nn.Module):
    """A small ConvNet: two conv blocks (conv, ReLU, max-pool) and a linear head."""

    def __init__(self, image_shape: tuple[int, int, int], channels: int, kernel_size: int,
                 num_classes: int, dropout: float = 0.0):
        super().__init__()
        c, h, w = image_shape
        pad = kernel_size // 2
        self.features = nn.Sequential(
            nn.Conv2d(c, channels, kernel_size, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, kernel_size, padding=pad), nn.ReLU(),
            nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(2 * channels * (h // 4) * (w // 4), num_classes))

    def forward(self, x):
        return self.head(self.features(x))
