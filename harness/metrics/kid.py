"""Kernel Inception Distance: the unbiased MMD² with the cubic polynomial kernel k(x, y) = (x·y/d + 1)³.

Unlike FID it is unbiased in the number of samples, so small evaluations of two models compare fairly.
Averaged over ``subsets`` random subsets of ``subset_size`` per side. The subsets are drawn exactly as
torch-fidelity draws them (``numpy.random.RandomState(seed).choice(n, size, replace=False)``, real then
fake, per subset) and the default seed is torch-fidelity's 2020, so the same features give the same
number as ``torch_fidelity.metric_kid.kid_features_to_metric(real, fake)``; kernels are float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..contract.errors import MetricError

DEFAULT_SUBSETS = 100
DEFAULT_SUBSET_SIZE = 1000
DEFAULT_SEED = 2020


def polynomial_kernel(x: Tensor, y: Tensor, degree: int = 3, coef0: float = 1.0) -> Tensor:
    """(x·y / d + coef0)^degree for all pairs of rows."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD² of two equally sized samples: diagonal terms dropped from the within-set sums."""
    m = x.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def check_subset_size(subset_size: int, n_real: int, n_fake: int) -> None:
    if subset_size < 2:
        raise MetricError(f"KID subset size must be at least 2, got {subset_size}")
    if subset_size > n_real or subset_size > n_fake:
        raise MetricError(
            f"KID subset size {subset_size} is larger than the number of samples "
            f"(real: {n_real}, fake: {n_fake}); lower the subset size to at most {min(n_real, n_fake)} "
            f"or give at least {subset_size} samples on each side")


def kernel_inception_distance(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, *,
                              subsets: int = DEFAULT_SUBSETS, subset_size: int = DEFAULT_SUBSET_SIZE,
                              seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """KID mean and standard deviation (population std over subsets, as torch-fidelity) of (N, d) features."""
    real = torch.as_tensor(real).detach().to("cpu", torch.float64)
    fake = torch.as_tensor(fake).detach().to("cpu", torch.float64)
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise MetricError(f"KID needs (N, d) and (M, d) features, got {tuple(real.shape)} and {tuple(fake.shape)}")
    check_subset_size(subset_size, len(real), len(fake))
    rng = np.random.RandomState(seed)
    values = np.empty(subsets)
    for i in range(subsets):
        real_subset = real[torch.from_numpy(rng.choice(len(real), subset_size, replace=False))]
        fake_subset = fake[torch.from_numpy(rng.choice(len(fake), subset_size, replace=False))]
        values[i] = mmd2_unbiased(real_subset, fake_subset)
    return float(values.mean()), float(values.std())
