import math

import pytest
import torch

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics.classifier import to_signed_unit
from ganzoo.harness.metrics.class_metrics import class_histogram, classes_covered, conditional_accuracy, digit_histograms_by_channel, expected_kl_for_even_modes, kl_to_uniform, per_class_accuracy, predict_classes, stacked_mnist_modes

from ..metrics_fixtures import cached_mnist_classifier, digit_oracle, require_mnist, synthetic_digits


def stack(hundreds: torch.Tensor, tens: torch.Tensor, units: torch.Tensor) -> torch.Tensor:
    return torch.cat([synthetic_digits(hundreds), synthetic_digits(tens), synthetic_digits(units)], dim=1)


def test_kl_to_uniform_handles_empty_bins():
    histogram = torch.zeros(1000, dtype=torch.int64)
    histogram[:10] = 7
    assert kl_to_uniform(histogram) == pytest.approx(math.log(100), rel=1e-12)  # 0·log 0 = 0, not NaN
    assert kl_to_uniform(torch.ones(1000)) == pytest.approx(0.0, abs=1e-12)
    histogram = torch.zeros(1000)
    histogram[0] = 5
    assert kl_to_uniform(histogram) == pytest.approx(math.log(1000))
    with pytest.raises(MetricError):
        kl_to_uniform(torch.zeros(1000))


def test_all_modes_with_oracle():
    labels = torch.arange(1000).repeat(2)
    result = stacked_mnist_modes(digit_oracle, stack(labels // 100, labels // 10 % 10, labels % 10), batch_size=300)
    assert result.modes == 1000 and result.kl == pytest.approx(0.0, abs=1e-12) and result.n_samples == 2000
    assert torch.equal(result.histogram, torch.full((1000,), 2))


def test_channel_order_and_skewed_histogram():
    images = stack(torch.tensor([1, 1, 1, 9]), torch.tensor([2, 2, 2, 0]), torch.tensor([3, 3, 3, 0]))
    result = stacked_mnist_modes(digit_oracle, images)
    assert result.modes == 2 and result.histogram[123] == 3 and result.histogram[900] == 1
    expected = 0.75 * math.log(750) + 0.25 * math.log(250)  # Σ p log(1000 p)
    assert result.kl == pytest.approx(expected, rel=1e-12)
    assert digit_histograms_by_channel(torch.tensor([123, 900]))[0].tolist() == [0, 1] + [0] * 7 + [1]


def test_conditional_accuracy_and_coverage():
    requested = torch.arange(100) % 10
    produced = requested.clone()
    produced[requested == 7] = 1  # the model never draws a 7
    images = synthetic_digits(produced, size=32)  # 32×32 like a DCGAN output; the oracle ignores size
    assert conditional_accuracy(digit_oracle, images, requested) == pytest.approx(0.9)
    per_class = per_class_accuracy(digit_oracle, images, requested)
    assert per_class[7] == 0 and per_class[1] == 1
    assert classes_covered(predict_classes(digit_oracle, images), 10) == 9
    assert class_histogram(produced, 10)[1] == 20
    with pytest.raises(MetricError, match="float images"):
        predict_classes(digit_oracle, torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(MetricError, match=r"\(N, 3, H, W\)"):
        stacked_mnist_modes(digit_oracle, torch.zeros(2, 1, 28, 28))


# --- with the real classifier (trains it on a cold cache: ~1.5 min on 2 idle cores) ---------------


@pytest.fixture(scope="module")
def mnist_classifier(tmp_path_factory):
    return cached_mnist_classifier(tmp_path_factory)


@pytest.fixture(scope="module")
def mnist_test_digits():
    from ganzoo.harness.data.mnist_files import load_mnist

    images, labels = load_mnist(require_mnist(), "test")
    return to_signed_unit(images), labels


@pytest.mark.slow
def test_real_stacked_digits_hit_all_modes(mnist_classifier, mnist_test_digits):
    model, _ = mnist_classifier
    images, _ = mnist_test_digits
    index = torch.randint(len(images), (26_000, 3), generator=torch.Generator().manual_seed(0))
    stacked = torch.cat([images[index[:, c]] for c in range(3)], dim=1)
    result = stacked_mnist_modes(model, stacked)
    print(f"\nreal Stacked-MNIST: {result.modes} modes, KL {result.kl:.4f}")
    assert result.modes >= 990
    assert result.kl < 0.05  # multinomial noise alone gives ≈ 999 / (2·26,000) ≈ 0.019


@pytest.mark.slow
def test_ten_triples_give_ten_modes(mnist_classifier, mnist_test_digits):
    model, _ = mnist_classifier
    images, labels = mnist_test_digits
    correct = predict_classes(model, images) == labels  # sample only digits the classifier reads right
    pools = [torch.nonzero(correct & (labels == digit)).flatten() for digit in range(10)]
    generator = torch.Generator().manual_seed(1)
    triples = torch.randperm(1000, generator=generator)[:10]
    which = torch.randint(10, (26_000,), generator=generator)  # uneven counts on purpose
    modes = triples[which]
    channels = []
    for digits in (modes // 100, modes // 10 % 10, modes % 10):
        picks = [pools[d][torch.randint(len(pools[d]), (1,), generator=generator)] for d in digits.tolist()]
        channels.append(images[torch.cat(picks)])
    result = stacked_mnist_modes(model, torch.cat(channels, dim=1))
    counts = class_histogram(modes, 1000).double()
    p = counts[counts > 0] / counts.sum()
    assert result.modes == 10
    assert result.kl == pytest.approx(float((p * (1000 * p).log()).sum()), rel=1e-9)
    assert result.kl == pytest.approx(expected_kl_for_even_modes(10), abs=0.01)  # log(1000/10) = 4.605
