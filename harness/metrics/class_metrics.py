"""Metrics read off a classifier's outputs: the Inception Score, Stacked-MNIST mode counting (VEEGAN,
PacGAN) and class coverage/accuracy for conditional models.

**Inception Score** exp(E_x KL(p(y|x) ‖ p(y))) from class logits or probabilities, over ``splits``
splits. Matches torch-fidelity's ``isc_features_to_metric``: samples shuffled with
``numpy.random.RandomState(seed).permutation`` (default seed 2020), float64, population std over splits.
With the MNIST classifier the score lies in [1, 10] (10 = confident and all digits equally often).

**Stacked MNIST.** A Stacked-MNIST image holds three MNIST digits as its three channels, so there are
1,000 modes (000–999). Each channel is classified on its own; the mode is 100·a + 10·b + c with a from channel 0.
We report the number of modes hit at least once and KL(generated ‖ uniform over the 1,000 modes) of
the mode histogram, with 0·log 0 = 0 (empty bins add nothing; a model that hits 10 modes evenly
scores log(1000/10)). This is the KL the papers report (DCGAN 99 modes / 3.4, PacDCGAN2 1000 /
0.06), against the uniform distribution. The real data's modes are *not* exactly uniform: each
channel's digit is drawn uniformly from the images, so a mode's probability is the product of
MNIST's class frequencies, and KL(real prior ‖ uniform) = 0.0052 nats on the t10k digits. With
the classifier's errors, real stacked digits score a KL of about 0.02–0.03 here: that is the floor
a perfect generator would reach under this protocol.

A ``classifier`` is any callable mapping (N, 1, H, W) images in [-1, 1] to (N, 10) logits, e.g.
the ``MnistCnn`` from ``classifier.py``; it is used as given (put it in eval mode).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..contract.errors import MetricError

DEFAULT_SPLITS = 10
DEFAULT_SEED = 2020


def inception_score(logits: Tensor | np.ndarray | None = None, *, probabilities: Tensor | np.ndarray | None = None,
                    splits: int = DEFAULT_SPLITS, shuffle: bool = True,
                    seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """IS mean and std over splits; give exactly one of ``logits`` or ``probabilities`` (N, classes)."""
    if (logits is None) == (probabilities is None):
        raise MetricError("inception_score takes exactly one of logits= or probabilities=")
    scores = logits if logits is not None else probabilities
    scores = torch.as_tensor(scores).detach().to("cpu", torch.float64)
    if scores.dim() != 2 or len(scores) < splits:
        raise MetricError(f"inception score needs (N, classes) with N >= splits={splits}, got {tuple(scores.shape)}")
    if shuffle:
        scores = scores[torch.from_numpy(np.random.RandomState(seed).permutation(len(scores)))]
    if logits is not None:
        log_p = scores.log_softmax(dim=1)
    else:
        log_p = (scores / scores.sum(dim=1, keepdim=True)).log()  # log 0 = -inf, masked by p = 0 below
    p = log_p.exp()
    n = len(scores)
    values = []
    for i in range(splits):
        chunk_p, chunk_log_p = p[i * n // splits:(i + 1) * n // splits], log_p[i * n // splits:(i + 1) * n // splits]
        log_marginal = chunk_p.mean(dim=0, keepdim=True).log()
        kl = torch.where(chunk_p > 0, chunk_p * (chunk_log_p - log_marginal), torch.zeros_like(chunk_p))
        values.append(float(kl.sum(dim=1).mean().exp()))
    return float(np.mean(values)), float(np.std(values))


N_DIGITS = 10
N_MODES = 1000

DigitClassifier = Callable[[Tensor], Tensor]


def _device_of(classifier: DigitClassifier) -> torch.device:
    parameter = next(iter(getattr(classifier, "parameters", lambda: iter(()))()), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.no_grad()
def predict_classes(classifier: DigitClassifier, images: Tensor, batch_size: int = 128) -> Tensor:
    """Arg-max class (N,) int64 on CPU of single-channel images, in batches, without gradients."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise MetricError(f"expected single-channel images (N, 1, H, W), got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        raise MetricError("expected float images in [-1, 1], got uint8; convert with x / 127.5 - 1")
    device = _device_of(classifier)
    return torch.cat([classifier(images[i:i + batch_size].to(device)).argmax(dim=1).cpu()
                      for i in range(0, len(images), batch_size)])


def stacked_labels(classifier: DigitClassifier, images: Tensor, batch_size: int = 128) -> Tensor:
    """Mode label 100·a + 10·b + c (N,) of (N, 3, H, W) stacked images, each channel classified alone."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise MetricError(f"Stacked-MNIST images are (N, 3, H, W), got {tuple(images.shape)}")
    digits = [predict_classes(classifier, images[:, c:c + 1], batch_size) for c in range(3)]
    return 100 * digits[0] + 10 * digits[1] + digits[2]


def class_histogram(labels: Tensor, n_classes: int) -> Tensor:
    """Counts (n_classes,) int64 of integer labels."""
    return torch.bincount(labels.flatten().long(), minlength=n_classes)[:n_classes]


def classes_covered(labels: Tensor, n_classes: int, min_count: int = 1) -> int:
    """How many classes occur at least ``min_count`` times."""
    return int((class_histogram(labels, n_classes) >= min_count).sum())


def digit_histograms_by_channel(mode_labels: Tensor) -> Tensor:
    """(3, 10) counts of each digit in each channel: shows *which* channel lost diversity."""
    digits = torch.stack([mode_labels // 100, mode_labels // 10 % 10, mode_labels % 10])
    return torch.stack([class_histogram(row, N_DIGITS) for row in digits])


def kl_to_uniform(histogram: Tensor) -> float:
    """KL(p ‖ uniform) of a count histogram, with 0·log 0 = 0; log(number of bins) at most."""
    counts = histogram.double()
    if counts.sum() <= 0:
        raise MetricError("KL of an empty histogram is undefined: no samples were classified")
    p = counts / counts.sum()
    nonzero = p[p > 0]
    return float((nonzero * (nonzero * len(counts)).log()).sum())


@dataclass(frozen=True)
class StackedMnistResult:
    modes: int  # distinct modes predicted at least once
    kl: float  # KL(generated ‖ uniform over 1,000 modes), nats
    histogram: Tensor  # (1000,) counts
    n_samples: int


def stacked_mnist_modes(classifier: DigitClassifier, images: Tensor, batch_size: int = 128) -> StackedMnistResult:
    """Modes captured and KL to uniform of (N, 3, H, W) Stacked-MNIST samples (the papers use N = 26,000)."""
    histogram = class_histogram(stacked_labels(classifier, images, batch_size), N_MODES)
    return StackedMnistResult(modes=int((histogram > 0).sum()), kl=kl_to_uniform(histogram),
                              histogram=histogram, n_samples=len(images))


def expected_kl_for_even_modes(n_hit: int, n_modes: int = N_MODES) -> float:
    """KL to uniform of a histogram spread evenly over ``n_hit`` modes: log(n_modes / n_hit)."""
    return math.log(n_modes / n_hit)


def conditional_accuracy(classifier: DigitClassifier, images: Tensor, labels: Tensor, batch_size: int = 128) -> float:
    """Fraction of single-channel images of a class-conditional model classified as their requested label."""
    if len(images) != len(labels) or len(images) == 0:
        raise MetricError(f"conditional accuracy needs as many labels as images, got {len(labels)} and {len(images)}")
    return float((predict_classes(classifier, images, batch_size) == labels.cpu()).double().mean())


def per_class_accuracy(classifier: DigitClassifier, images: Tensor, labels: Tensor, n_classes: int = N_DIGITS,
                       batch_size: int = 128) -> Tensor:
    """(n_classes,) accuracy per requested label (NaN for labels never requested)."""
    labels = labels.cpu()
    predicted = predict_classes(classifier, images, batch_size)
    hits = class_histogram(labels[predicted == labels], n_classes).double()
    return hits / class_histogram(labels, n_classes).double()
