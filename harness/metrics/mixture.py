"""Mode-collapse metrics for 2-D Gaussian mixtures (VEEGAN / PacGAN protocol).

A sample is *high quality* when it lies within ``3 * std`` of its nearest centre; a mode is
*captured* when it is the nearest centre of at least one high-quality sample. The reverse KL
compares the histogram of high-quality samples over modes (Q) with the uniform mixture
weights (P): KL(Q ‖ P) = Σ q log(q / p), which is 0 for perfect coverage and log(K/m) when
the samples are spread evenly over only m of K modes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class MixtureScores:
    modes_captured: int
    modes_total: int
    hq_fraction: float
    reverse_kl: float
    n_samples: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def nearest_centers(samples: Tensor, centers: Tensor) -> tuple[Tensor, Tensor]:
    """Index of and distance to the nearest centre for every sample."""
    distances = torch.cdist(samples.double(), centers.double())
    nearest, index = distances.min(dim=1)
    return index, nearest


def mode_histogram(samples: Tensor, centers: Tensor, std: float) -> tuple[Tensor, Tensor]:
    """(counts of high-quality samples per mode, boolean high-quality mask per sample)."""
    index, distance = nearest_centers(samples, centers)
    high_quality = distance <= 3.0 * std
    counts = torch.bincount(index[high_quality], minlength=len(centers))
    return counts, high_quality


def reverse_kl(counts: Tensor) -> float:
    """KL(Q ‖ uniform) of a histogram; infinite when no sample is high quality."""
    total = counts.sum().item()
    if total == 0:
        return math.inf
    q = counts.double() / total
    nonzero = q > 0
    return float((q[nonzero] * (q[nonzero] * len(counts)).log()).sum())


def mixture_scores(samples: Tensor, centers: Tensor, std: float) -> MixtureScores:
    samples = samples.detach().float().cpu()
    if not torch.isfinite(samples).all():
        samples = torch.nan_to_num(samples, nan=1e9, posinf=1e9, neginf=-1e9)  # non-finite = far from all
    counts, high_quality = mode_histogram(samples, centers, std)
    return MixtureScores(
        modes_captured=int((counts > 0).sum()),
        modes_total=len(centers),
        hq_fraction=float(high_quality.double().mean()),
        reverse_kl=reverse_kl(counts),
        n_samples=len(samples),
    )
