"""FID timing: ours (float64 statistics, symmetric eigendecompositions) against torchmetrics (non-symmetric
eigenvalues of Σ₁Σ₂) and torch-fidelity (numpy), on the same random features.

Run with ``pytest bench/test_bench_metrics.py``. Features default to 5,000 × 512 so a shared CPU finishes
in about a minute; ``GANZOO_BENCH_FID=10000x2048`` gives the Inception-sized case.
"""

from __future__ import annotations

import os

import pytest
import torch

from ganzoo.harness.metrics.frechet import fid_from_features

N, DIM = (int(part) for part in os.environ.get("GANZOO_BENCH_FID", "5000x512").split("x"))


@pytest.fixture(scope="module")
def features() -> tuple[torch.Tensor, torch.Tensor]:
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(N, DIM, generator=generator)
    mixing = torch.randn(DIM, DIM, generator=generator) / DIM**0.5
    return real, torch.randn(N, DIM, generator=generator) @ mixing + 0.1


@pytest.mark.benchmark(group=f"fid-{N}x{DIM}")
def test_fid_ours(benchmark, features):
    value = benchmark.pedantic(fid_from_features, args=features, rounds=3, iterations=1)
    benchmark.extra_info["fid"] = value


@pytest.mark.benchmark(group=f"fid-{N}x{DIM}")
def test_fid_torchmetrics(benchmark, features):
    pytest.importorskip("torchmetrics", reason="torchmetrics not installed (pip install torchmetrics)")
    from torchmetrics.image.fid import FrechetInceptionDistance

    class FeaturesAsIs(torch.nn.Identity):
        num_features = DIM

    def torchmetrics_fid(real: torch.Tensor, fake: torch.Tensor) -> float:
        metric = FrechetInceptionDistance(feature=FeaturesAsIs())
        metric.update(real, real=True)
        metric.update(fake, real=False)
        return float(metric.compute())

    value = benchmark.pedantic(torchmetrics_fid, args=features, rounds=3, iterations=1)
    benchmark.extra_info["fid"] = value
    assert value == pytest.approx(fid_from_features(*features), rel=1e-3)  # float32 features: torchmetrics
    # returns float32, so compare loosely here; tests/metrics/test_frechet.py checks 1e-4 on float64


@pytest.mark.benchmark(group=f"fid-{N}x{DIM}")
def test_fid_torch_fidelity(benchmark, features):
    pytest.importorskip("torch_fidelity", reason="torch-fidelity not installed (pip install torch-fidelity)")
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    def torch_fidelity_fid(real: torch.Tensor, fake: torch.Tensor) -> float:
        statistics = fid_features_to_statistics(real), fid_features_to_statistics(fake)
        return fid_statistics_to_metric(*statistics, False)["frechet_inception_distance"]

    value = benchmark.pedantic(torch_fidelity_fid, args=features, rounds=3, iterations=1)
    benchmark.extra_info["fid"] = value
    assert value == pytest.approx(fid_from_features(*features), rel=1e-3)
