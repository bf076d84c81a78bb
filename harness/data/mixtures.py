"""The 2-D Gaussian mixtures of the VEEGAN / PacGAN mode-collapse protocol, generated on the fly.

ring: 8 Gaussians evenly spaced on a circle of radius 1, std 0.01.
grid: 25 Gaussians at {-4, -2, 0, 2, 4}², std 0.05.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..contract.gan_plugin import Batch
from ..contract.model_spec import DataInfo, DataKind
from .base import DataSource


def ring_centers(modes: int = 8, radius: float = 1.0) -> Tensor:
    angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def grid_centers(side: int = 5, spacing: float = 2.0) -> Tensor:
    axis = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    xs, ys = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


MIXTURES: dict[str, tuple[Tensor, float]] = {
    "ring": (ring_centers(), 0.01),
    "grid": (grid_centers(), 0.05),
}


class MixtureSource(DataSource):
    """Samples of an equal-weight isotropic Gaussian mixture; infinite, never repeats."""

    def __init__(self, name: str, seed: int) -> None:
        super().__init__(seed)
        self.centers, self.std = MIXTURES[name]
        self.info = DataInfo(name=name, kind=DataKind.points2d, shape=(2,), value_range=None)

    def _draw(self, n: int, generator: torch.Generator) -> Batch:
        which = torch.randint(len(self.centers), (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator) * self.std
        return Batch(real=self.centers[which] + noise, labels=None)

    def next_batch(self, batch_size: int) -> Batch:
        return self._draw(batch_size, self.generator)

    def reference(self, n: int, seed: int) -> Batch:
        return self._draw(n, torch.Generator().manual_seed(seed))

    def describe(self) -> dict:
        return {**super().describe(), "modes": len(self.centers), "std": self.std}
