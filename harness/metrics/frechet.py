"""Fréchet distance between Gaussians fitted to two feature sets (FID when the features are Inception pool3).

d² = ‖μ₁ − μ₂‖² + Tr(Σ₁) + Tr(Σ₂) − 2 Tr((Σ₁Σ₂)^½).

Everything is float64: FID is a small difference of large traces, and float32 statistics of 2048-d
features move it in the first decimal. Tr((Σ₁Σ₂)^½) is computed as Σ √λ(√Σ₁ Σ₂ √Σ₁): that matrix is
symmetric positive semi-definite and similar to Σ₁Σ₂, so two symmetric eigendecompositions give the
trace without the complex eigenvalues or the failing ``scipy.linalg.sqrtm`` iterations that singular
covariances (fewer samples than dimensions, dead ReLUs) cause elsewhere. Tiny negative eigenvalues from
round-off are clamped to zero.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..contract.errors import MetricError


def _as_float64(array: Tensor | np.ndarray) -> Tensor:
    return torch.as_tensor(array).detach().to("cpu", torch.float64)


def feature_statistics(features: Tensor | np.ndarray) -> tuple[Tensor, Tensor]:
    """Mean (d,) and unbiased covariance (d, d), both float64, of (N, d) features (same as ``np.cov``)."""
    features = _as_float64(features)
    if features.dim() != 2 or features.shape[0] < 2:
        raise MetricError(f"feature statistics need an (N, d) array with N >= 2, got shape {tuple(features.shape)}")
    mean = features.mean(dim=0)
    centred = features - mean
    covariance = centred.T @ centred / (features.shape[0] - 1)
    return mean, covariance


def sqrtm_psd(matrix: Tensor) -> Tensor:
    """Square root of a symmetric positive semi-definite matrix via its eigendecomposition."""
    eigenvalues, eigenvectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (eigenvectors * eigenvalues.clamp_min(0).sqrt()) @ eigenvectors.T


def trace_sqrt_product(sigma1: Tensor, sigma2: Tensor) -> float:
    """Tr((Σ₁Σ₂)^½) = Σ √λ(√Σ₁ Σ₂ √Σ₁)."""
    root1 = sqrtm_psd(sigma1)
    inner = root1 @ sigma2 @ root1
    return float(torch.linalg.eigvalsh((inner + inner.T) / 2).clamp_min(0).sqrt().sum())


def frechet_distance(mu1: Tensor | np.ndarray, sigma1: Tensor | np.ndarray,
                     mu2: Tensor | np.ndarray, sigma2: Tensor | np.ndarray) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2, sigma1, sigma2 = (_as_float64(a) for a in (mu1, mu2, sigma1, sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.numel(), mu1.numel()):
        raise MetricError(f"mismatched statistics: means {tuple(mu1.shape)} / {tuple(mu2.shape)}, "
                          f"covariances {tuple(sigma1.shape)} / {tuple(sigma2.shape)}")
    mean_term = float((mu1 - mu2).square().sum())
    return mean_term + float(sigma1.trace() + sigma2.trace()) - 2 * trace_sqrt_product(sigma1, sigma2)


def fid_from_features(real: Tensor | np.ndarray, fake: Tensor | np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to (N, d) real and (M, d) fake features."""
    mu_real, sigma_real = feature_statistics(real)
    mu_fake, sigma_fake = feature_statistics(fake)
    return frechet_distance(mu_real, sigma_real, mu_fake, sigma_fake)
