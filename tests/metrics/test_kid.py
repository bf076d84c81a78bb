import pytest
import torch

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics.kid import kernel_inception_distance, mmd2_unbiased


def test_subset_larger_than_samples_is_a_clear_error():
    real, fake = torch.randn(300, 8), torch.randn(500, 8)
    with pytest.raises(MetricError) as error:
        kernel_inception_distance(real, fake, subset_size=1000)
    message = str(error.value)
    assert "1000" in message and "real: 300" in message and "fake: 500" in message
    assert "lower the subset size to at most 300" in message


def test_same_distribution_is_near_zero_and_shift_is_positive():
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(2000, 16, generator=generator), torch.randn(2000, 16, generator=generator)
    mean, std = kernel_inception_distance(real, fake, subsets=20, subset_size=500)
    assert abs(mean) < 3 * std
    shifted, _ = kernel_inception_distance(real, fake + 1.0, subsets=20, subset_size=500)
    assert shifted > 10 * max(abs(mean), std)


def test_unbiased_estimator_has_zero_mean():
    """Averaged over many independent draws, MMD² of one distribution against itself is 0 (not O(1/m))."""
    generator = torch.Generator().manual_seed(1)
    values = torch.tensor([mmd2_unbiased(torch.randn(50, 4, generator=generator, dtype=torch.float64),
                                         torch.randn(50, 4, generator=generator, dtype=torch.float64))
                           for _ in range(400)])
    assert abs(float(values.mean())) < 4 * float(values.std()) / 20


def test_matches_torch_fidelity_including_subsets():
    pytest.importorskip("torch_fidelity", reason="torch-fidelity not installed (pip install torch-fidelity)")
    from torch_fidelity.metric_kid import kid_features_to_metric

    generator = torch.Generator().manual_seed(2)
    real, fake = torch.randn(700, 32, generator=generator), torch.randn(600, 32, generator=generator) * 1.1 + 0.05
    expected = kid_features_to_metric(real, fake, kid_subsets=10, kid_subset_size=200,
                                      rng_seed=2020, verbose=False)
    mean, std = kernel_inception_distance(real, fake, subsets=10, subset_size=200, seed=2020)
    assert mean == pytest.approx(expected["kernel_inception_distance_mean"], rel=1e-4)
    assert std == pytest.approx(expected["kernel_inception_distance_std"], rel=1e-3)


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save")
def test_matches_torchmetrics():
    pytest.importorskip("torchmetrics", reason="torchmetrics not installed (pip install torchmetrics)")
    from torchmetrics.image.kid import KernelInceptionDistance

    generator = torch.Generator().manual_seed(3)
    real = torch.randn(400, 32, generator=generator, dtype=torch.float64)
    fake = torch.randn(400, 32, generator=generator, dtype=torch.float64) * 1.2
    # One subset of all samples: torchmetrics' torch.randperm order cannot change an MMD over the full sets.
    reference = KernelInceptionDistance(feature=torch.nn.Identity(), subsets=1, subset_size=400)
    reference.update(real, real=True)
    reference.update(fake, real=False)
    expected, _ = reference.compute()
    mean, _ = kernel_inception_distance(real, fake, subsets=1, subset_size=400)
    assert mean == pytest.approx(float(expected), rel=1e-4)
