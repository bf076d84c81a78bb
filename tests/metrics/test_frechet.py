import math

import numpy as np
import pytest
import torch

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics.frechet import feature_statistics, fid_from_features, frechet_distance


def random_covariance(dim: int, generator: torch.Generator) -> torch.Tensor:
    factor = torch.randn(dim, dim, generator=generator, dtype=torch.float64)
    return factor @ factor.T / dim + 0.1 * torch.eye(dim, dtype=torch.float64)


def test_diagonal_covariances_match_closed_form():
    mu1, mu2 = torch.tensor([0.0, 1.0, -2.0]), torch.tensor([1.0, 1.0, 0.5])
    a, b = torch.tensor([1.0, 4.0, 0.25]), torch.tensor([9.0, 1.0, 0.25])
    expected = float(((mu1 - mu2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum())
    assert frechet_distance(mu1, torch.diag(a), mu2, torch.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_commuting_covariances_match_closed_form():
    """Σ₁ = Q diag(a) Qᵀ, Σ₂ = Q diag(b) Qᵀ share eigenvectors: d² = ‖Δμ‖² + Σ(√a − √b)²."""
    generator = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=generator, dtype=torch.float64))
    a, b = (torch.rand(16, generator=generator, dtype=torch.float64) * scale for scale in (3, 1))
    mu1, mu2 = (torch.randn(16, generator=generator, dtype=torch.float64) for _ in range(2))
    expected = float(((mu1 - mu2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum())
    value = frechet_distance(mu1, q @ torch.diag(a) @ q.T, mu2, q @ torch.diag(b) @ q.T)
    assert value == pytest.approx(expected, rel=1e-9)


def test_general_covariances_match_eigenvalue_formula():
    """Independent route: Tr((Σ₁Σ₂)^½) = Σ √λ(Σ₁Σ₂) with numpy's non-symmetric eigenvalues."""
    generator = torch.Generator().manual_seed(1)
    s1, s2 = random_covariance(32, generator), random_covariance(32, generator)
    mu1, mu2 = torch.randn(32, generator=generator, dtype=torch.float64), torch.zeros(32, dtype=torch.float64)
    trace_sqrt = np.sqrt(np.linalg.eigvals(s1.numpy() @ s2.numpy()).astype(complex)).real.sum()
    expected = float(((mu1 - mu2) ** 2).sum() + s1.trace() + s2.trace()) - 2 * trace_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_identical_sets_give_zero_and_statistics_match_numpy():
    features = torch.randn(500, 20, generator=torch.Generator().manual_seed(2))
    assert abs(fid_from_features(features, features)) < 1e-8
    mean, covariance = feature_statistics(features)
    assert torch.allclose(covariance, torch.from_numpy(np.cov(features.double().numpy(), rowvar=False)), atol=1e-12)
    assert mean.dtype == covariance.dtype == torch.float64


def test_singular_covariances_stay_finite():
    """Fewer samples than dimensions (rank-deficient Σ) is where naive sqrtm returns NaN or complex junk."""
    generator = torch.Generator().manual_seed(3)
    real, fake = torch.randn(50, 128, generator=generator), torch.randn(50, 128, generator=generator) + 0.5
    value = fid_from_features(real, fake)
    assert math.isfinite(value) and value > 0


def test_mismatched_shapes_raise():
    with pytest.raises(MetricError, match="mismatched"):
        frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(4), torch.eye(4))
    with pytest.raises(MetricError, match="N >= 2"):
        feature_statistics(torch.zeros(1, 3))


def test_matches_torchmetrics():
    pytest.importorskip("torchmetrics", reason="torchmetrics not installed (pip install torchmetrics)")
    from torchmetrics.image.fid import FrechetInceptionDistance

    generator = torch.Generator().manual_seed(4)
    real = torch.randn(600, 24, generator=generator, dtype=torch.float64)
    fake = torch.randn(700, 24, generator=generator, dtype=torch.float64) @ random_covariance(24, generator) + 0.3

    class FeaturesAsIs(torch.nn.Identity):
        num_features = 24

    reference = FrechetInceptionDistance(feature=FeaturesAsIs())
    reference.update(real, real=True)
    reference.update(fake, real=False)
    assert fid_from_features(real, fake) == pytest.approx(float(reference.compute()), rel=1e-4)


def test_matches_torch_fidelity():
    pytest.importorskip("torch_fidelity", reason="torch-fidelity not installed (pip install torch-fidelity)")
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    generator = torch.Generator().manual_seed(5)
    real, fake = torch.randn(400, 16, generator=generator), torch.rand(400, 16, generator=generator) * 3
    expected = fid_statistics_to_metric(fid_features_to_statistics(real), fid_features_to_statistics(fake), False)
    assert fid_from_features(real, fake) == pytest.approx(expected["frechet_inception_distance"], rel=1e-6)
