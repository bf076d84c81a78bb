"""Multilayer perceptrons for the 2-D mixture experiments (shared by the point-data plugins)."""

from __future__ import annotations

import torch
from torch import nn


def mlp(in_dim: int, hidden: int, depth: int, out_dim: int, activation: str = "relu") -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden``; the output layer is linear."""
    act = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}[activation]
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), act()]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class PointsGenerator(nn.Module):
    """z ∈ R^latent → x ∈ R^dim."""

    def __init__(self, latent_dim: int, hidden: int, depth: int, dim: int) -> None:
        super().__init__()
        self.net = mlp(latent_dim, hidden, depth, dim)

    def forward(self, z):
        return self.net(z)


class PointsDiscriminator(nn.Module):
    """x ∈ R^(dim·pack) → one score. With PacGAN packing the harness concatenates ``pack`` samples."""

    def __init__(self, dim: int, hidden: int, depth: int, pack: int = 1, activation: str = "leaky_relu") -> None:
        super().__init__()
        self.net = mlp(dim * pack, hidden, depth, 1, activation=activation)

    def forward(self, x):
        return self.net(x).squeeze(-1)


class JointDiscriminator(nn.Module):
    """(x, z) → one score: an MLP on the concatenated pair (ALI/BiGAN's and VEEGAN's discriminator).

    With PacGAN packing the harness hands over ``pack`` samples x concatenated per row; the matching
    codes z are packed the same way here.
    """

    def __init__(self, dim: int, latent_dim: int, hidden: int, depth: int, pack: int = 1,
                 activation: str = "leaky_relu") -> None:
        super().__init__()
        self.net = mlp((dim + latent_dim) * pack, hidden, depth, 1, activation=activation)

    def forward(self, x, z):
        z = z.reshape(x.shape[0], -1)
        return self.net(torch.cat([x, z.to(x.dtype)], dim=1)).squeeze(-1)
