"""Public building blocks of the point-data GANs: multilayer perceptrons for the 2-D mixture experiments.

**Public and stable for third-party plugins.** The names in ``__all__`` are part of ganzoo's plugin API
beside ``ganzoo.harness.plugin`` (docs/plugins.md): within a minor release series (0.1.x) they keep their
names, their arguments and the networks they build (layer layout, parameter names, initialisation), so a
plugin compared with ``gan``, ``wgan-gp`` or the mode-collapse models on the ring and the grid runs the same
MLPs. They need nothing from ganzoo but torch (the rest of ``ganzoo.zoo`` may change between releases).

:func:`mlp` is the one layer stack (``depth`` hidden layers of ``hidden`` units, ReLU / LeakyReLU(0.2) / tanh /
maxout, optional batch norm); :class:`PointsGenerator` (z → x), :class:`PointsDiscriminator` (x, PacGAN-packed →
score) and :class:`JointDiscriminator` ((x, z) → score, ALI/VEEGAN) wrap it; :func:`normal_init` is N(0, σ²)
initialisation (the PacGAN authors').
"""

from __future__ import annotations

import torch
from torch import nn


ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}


class Maxout(nn.Module):
    """A linear layer to ``width`` × ``pieces`` units, max over each unit's pieces (Goodfellow et al. 2013)."""

    def __init__(self, in_dim: int, width: int, pieces: int) -> None:
        super().__init__()
        self.width, self.pieces = width, pieces
        self.linear = nn.Linear(in_dim, width * pieces)

    def forward(self, x):
        return self.linear(x).unflatten(-1, (self.width, self.pieces)).amax(-1)


def mlp(in_dim: int, hidden: int, depth: int, out_dim: int, activation: str = "relu", norm: str = "none",
        pieces: int = 5) -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden``; the output layer is linear. ``norm="batch"``: each hidden
    linear layer loses its bias and is followed by batch norm before the activation; ``activation="maxout"``:
    each hidden layer is a maxout of ``pieces`` linear pieces."""
    if activation not in ACTIVATIONS and activation != "maxout":
        raise ValueError(f"unknown MLP activation {activation!r}: choose one of {', '.join([*ACTIVATIONS, 'maxout'])}")
    if norm not in ("none", "batch"):
        raise ValueError(f"unknown MLP normalisation {norm!r}: choose 'none' or 'batch'")
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        if activation == "maxout":
            layers.append(Maxout(width, hidden, pieces))
        else:
            layers.append(nn.Linear(width, hidden, bias=norm == "none"))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(ACTIVATIONS[activation]())
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)



def normal_init(net: nn.Module, std: float) -> nn.Module:
    """Weights ~ N(0, std²), biases 0 (the PacGAN authors' IsotropicGaussian(0.02) / Constant(0))."""
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


def orthogonal_init(net: nn.Module, gain: float) -> nn.Module:
    """Weights orthogonal with ``gain``, biases 0: TF-slim's ``orthogonal_initializer(gain=1.4)``, the
    initialisation of the Unrolled GAN and GDPP authors' 2-D code, which their protocols copy."""
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


class PointsGenerator(nn.Module):
    """z ∈ R^latent → x ∈ R^dim."""

    def __init__(self, latent_dim: int, hidden: int, depth: int, dim: int, activation: str = "relu",
                 norm: str = "none") -> None:
        super().__init__()
        self.net = mlp(latent_dim, hidden, depth, dim, activation=activation, norm=norm)

    def forward(self, z):
        return self.net(z)


class PointsDiscriminator(nn.Module):
    """x ∈ R^(dim·pack) → one score. With PacGAN packing the harness concatenates ``pack`` samples."""

    def __init__(self, dim: int, hidden: int, depth: int, pack: int = 1, activation: str = "leaky_relu",
                 pieces: int = 5) -> None:
        super().__init__()
        self.net = mlp(dim * pack, hidden, depth, 1, activation=activation, pieces=pieces)

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


__all__ = ["ACTIVATIONS", "JointDiscriminator", "Maxout", "PointsDiscriminator", "PointsGenerator", "mlp", "normal_init",
           "orthogonal_init"]
