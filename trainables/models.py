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
    """A small ConvNet: two conv blocks (conv, [batch norm,] ReLU, max-pool) and a head, linear
    or with one hidden layer of `head_size` units."""

    def __init__(self, image_shape: tuple[int, int, int], channels: int, kernel_size: int,
                 num_classes: int, dropout: float = 0.0, batch_norm: bool = False,
                 head_size: int = 0):
        super().__init__()
        c, h, w = image_shape
        pad = kernel_size // 2

        def block(into: int, out: int) -> list[nn.Module]:
            norm = [nn.BatchNorm2d(out)] if batch_norm else []
            return [nn.Conv2d(into, out, kernel_size, padding=pad), *norm, nn.ReLU(),
                    nn.MaxPool2d(2)]

        self.features = nn.Sequential(*block(c, channels), *block(channels, 2 * channels))
        flat = 2 * channels * (h // 4) * (w // 4)
        hidden: list[nn.Module] = [nn.Linear(flat, head_size), nn.ReLU(), nn.Dropout(dropout)] \
            if head_size else []
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), *hidden,
                                  nn.Linear(head_size or flat, num_classes))

    def forward(self, x):
        return self.head(self.features(x))
