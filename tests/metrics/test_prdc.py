import numpy as np
import pytest
import torch

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics.prdc import prdc, prdc_by_k


def reference_prdc(real: np.ndarray, fake: np.ndarray, nearest_k: int) -> dict[str, float]:
    """github.com/clovaai/generative-evaluation-prdc ``compute_prdc``, brute force, sklearn swapped for numpy."""
    def distances(x, y):
        return np.sqrt(np.maximum((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T, 0))

    def kth_value(unsorted, k):
        indices = np.argpartition(unsorted, k, axis=-1)[..., :k]
        return np.take_along_axis(unsorted, indices, axis=-1).max(axis=-1)

    real_radii = kth_value(distances(real, real), nearest_k + 1)
    fake_radii = kth_value(distances(fake, fake), nearest_k + 1)
    real_fake = distances(real, fake)
    return {"precision": (real_fake < real_radii[:, None]).any(axis=0).mean(),
            "recall": (real_fake < fake_radii[None, :]).any(axis=1).mean(),
            "density": (1.0 / nearest_k) * (real_fake < real_radii[:, None]).sum(axis=0).mean(),
            "coverage": (real_fake.min(axis=1) < real_radii).mean()}


@pytest.mark.parametrize("nearest_k", [3, 5])
def test_matches_reference_code_brute_force(nearest_k):
    rng = np.random.RandomState(0)
    real, fake = rng.normal(size=(2000, 64)), rng.normal(size=(1500, 64)) * 1.1 + 0.1
    ours = prdc(torch.from_numpy(real), torch.from_numpy(fake), nearest_k, chunk_size=300)  # chunks must not matter
    expected = reference_prdc(real, fake, nearest_k)
    for name in expected:
        assert ours[name] == pytest.approx(float(expected[name]), abs=1e-12), name


def test_several_k_from_one_pass_equal_separate_calls():
    generator = torch.Generator().manual_seed(1)
    real, fake = torch.randn(400, 8, generator=generator), torch.randn(300, 8, generator=generator)
    together = prdc_by_k(real, fake, [3, 5])
    assert together[3] == prdc(real, fake, 3) and together[5] == prdc(real, fake, 5)


def test_mode_dropping_lowers_recall_and_coverage_not_precision():
    generator = torch.Generator().manual_seed(2)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    real = torch.cat([centres[0] + torch.randn(500, 2, generator=generator),
                      centres[1] + torch.randn(500, 2, generator=generator)])
    fake = centres[0] + torch.randn(1000, 2, generator=generator)  # one of the two modes only
    values = prdc(real, fake, 5)
    assert values["precision"] > 0.9 and values["recall"] < 0.6 and values["coverage"] < 0.55


def test_k_must_be_smaller_than_the_sets():
    with pytest.raises(MetricError, match="lower k or give more samples"):
        prdc(torch.randn(5, 2), torch.randn(50, 2), 5)


@pytest.mark.slow
def test_reference_readme_numbers_for_standard_normals():
    """The reference README: 10,000 vs 10,000 1000-d standard normals, k=5 → P .4772 R .4705 D 1.0555 C .9735.

    Those come from one unseeded draw. Across seeds (measured: 0, 1, 2) precision/recall/coverage move
    by about ±0.015 but density by ±0.15 (a few huge real balls dominate it in 1000-d), hence the
    wider density tolerance; exactness against the reference code is checked above.
    """
    rng = np.random.RandomState(0)
    real, fake = rng.normal(size=(10_000, 1000)), rng.normal(size=(10_000, 1000))
    values = prdc(torch.from_numpy(real), torch.from_numpy(fake), 5)
    print(values)
    assert values["precision"] == pytest.approx(0.4772, abs=0.03)
    assert values["recall"] == pytest.approx(0.4705, abs=0.03)
    assert values["density"] == pytest.approx(1.0555, abs=0.2)
    assert values["coverage"] == pytest.approx(0.9735, abs=0.02)
