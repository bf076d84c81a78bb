"""Label preservation of an image translator: does a translated digit still show the same digit?

The CycleGAN paper scores Cityscapes labels→photo translations with the "FCN score": an
off-the-shelf segmenter run on the translated photos, compared with the input labels (Zhu et al.
2017, arXiv 1703.10593, §5.1.1). This is that idea for digits: the harness's MNIST classifier
(``classifier.train_mnist_classifier``: trained once, cached, identified by the sha256 of its
weights) reads every translated image, and we report the fraction read as the source digit's label,
per direction:

- ``label_acc_a2b``: accuracy on G_ab(a) against the labels of the domain-A inputs,
- ``label_acc_b2a``: accuracy on G_ba(b) against the labels of the domain-B inputs,
- ``label_acc_real_a`` / ``label_acc_real_b``: the classifier on the untranslated inputs, the
  ceiling a perfect translator could reach (the classifier is imperfect on some domains).

Label preservation alone is also maximal for a translator that does nothing, so the translations are
also compared with the *target* domain in the classifier's 128-d feature space (Fréchet distance,
``frechet.fid_from_features``; a classifier-FID, not comparable with Inception FID):

- ``fid_a2b``: G_ab(A) vs real B; ``fid_b2a``: G_ba(B) vs real A;
- ``fid_a_vs_b``: real A vs real B, what the do-nothing translator would score.

Colour images (3 channels) are converted to grey with the ITU-R BT.601 luma weights
Y = 0.299 R + 0.587 G + 0.114 B (a convex combination, so [-1, 1] stays [-1, 1]) before the
classifier, which then resizes to 28×28 (bilinear, antialiased) as usual. The digits of both domains
must be light on dark, like MNIST.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from ..contract.errors import MetricError
from .frechet import fid_from_features
from .protocol import MetricValue, Protocol

Direction = Literal["a2b", "b2a"]
Translator = Callable[[Tensor, Direction], Tensor]  # images in [-1, 1] (N, C, H, W) → same shape

LUMA = (0.299, 0.587, 0.114)
GRAYSCALE = "ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B for 3-channel images"
RESIZE = "bilinear+antialias to 28x28 (classifier input)"


def to_grayscale(images: Tensor) -> Tensor:
    """(N, 1, H, W) as is; (N, 3, H, W) → BT.601 luma (N, 1, H, W); anything else is an error."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise MetricError(f"label preservation reads (N, 1, H, W) or (N, 3, H, W) images, got {tuple(images.shape)}")
    if images.shape[1] == 1:
        return images.float()
    weights = torch.tensor(LUMA, dtype=torch.float32, device=images.device).view(1, 3, 1, 1)
    return (images.float() * weights).sum(dim=1, keepdim=True)


@dataclass
class LabelPreservation:
    """Scores as plain numbers and how they were measured."""

    scores: dict[str, float]
    protocol: dict[str, Any] = field(default_factory=dict)

    def as_metric_values(self) -> dict[str, MetricValue]:
        """The scores as ``MetricValue``s with their ``Protocol`` (direction in the metric's name)."""
        p = self.protocol
        common = {"extractor": p.get("extractor"), "weights_sha256": p.get("weights_sha256"), "resize": RESIZE,
                  "seed": p.get("seed")}
        out = {}
        for name, value in self.scores.items():
            if name.startswith("fid"):
                protocol = Protocol(metric=f"classifier_{name}", n_real=p["n"], n_fake=p["n"],
                                    reference_split=p.get("dataset"), **common)
            elif name.startswith("label_acc"):
                protocol = Protocol(metric=name, n_fake=p["n"], reference_split=p.get("dataset"), **common)
            else:
                continue
            out[name] = MetricValue(value=value, protocol=protocol)
        return out


@torch.no_grad()
def _classify(classifier, images: Tensor, batch_size: int) -> tuple[Tensor, Tensor]:
    """(predicted classes, features), both on CPU, of images in [-1, 1]."""
    device = next(classifier.parameters()).device
    predictions, features = [], []
    for start in range(0, len(images), batch_size):
        chunk = to_grayscale(images[start:start + batch_size].to(device))
        feats = classifier.features(chunk)
        features.append(feats.double().cpu())
        predictions.append(classifier.head(feats).argmax(dim=1).cpu())
    return torch.cat(predictions), torch.cat(features)


@torch.no_grad()
def _translate(translate: Translator, images: Tensor, direction: Direction, batch_size: int) -> Tensor:
    return torch.cat([translate(images[i:i + batch_size], direction).float().cpu()
                      for i in range(0, len(images), batch_size)])


def label_preservation(translate: Translator, source, classifier, *, n: int = 1000, seed: int = 0,
                       batch_size: int = 250, classifier_report: dict[str, Any] | None = None) -> LabelPreservation:
    """Label accuracy and classifier-FID of ``translate`` in both directions on ``n`` images per domain.

    ``source``: an ``UnpairedSource`` whose domains have labels (``reference``/``reference_b``);
    ``classifier``: an ``MnistCnn`` in eval mode (``train_mnist_classifier``); ``translate(images,
    direction)`` returns the translations (e.g. ``functools.partial(plugin.translate, nets)`` with the
    images moved to the networks' device). The input images are the source's reference draws
    with ``seed``, independent of the training order.
    """
    if n < 2:
        raise MetricError(f"label preservation needs n >= 2 images per domain (the FID needs two), got {n}")
    a, b = source.reference(n, seed), source.reference_b(n, seed)
    if a.labels is None or b.labels is None:
        raise MetricError(f"dataset {source.info.name!r} has no labels in both domains; label preservation needs "
                          "the source digit's label (use e.g. mnist-thickness)")
    fake_b = _translate(translate, a.real, "a2b", batch_size)
    fake_a = _translate(translate, b.real, "b2a", batch_size)
    pred_real_a, feat_real_a = _classify(classifier, a.real, batch_size)
    pred_real_b, feat_real_b = _classify(classifier, b.real, batch_size)
    pred_fake_b, feat_fake_b = _classify(classifier, fake_b, batch_size)
    pred_fake_a, feat_fake_a = _classify(classifier, fake_a, batch_size)

    def accuracy(predicted: Tensor, labels: Tensor) -> float:
        return float((predicted == labels.cpu()).float().mean())

    scores = {
        "label_acc_a2b": accuracy(pred_fake_b, a.labels),
        "label_acc_b2a": accuracy(pred_fake_a, b.labels),
        "label_acc_real_a": accuracy(pred_real_a, a.labels),
        "label_acc_real_b": accuracy(pred_real_b, b.labels),
        "fid_a2b": fid_from_features(feat_real_b, feat_fake_b),
        "fid_b2a": fid_from_features(feat_real_a, feat_fake_a),
        "fid_a_vs_b": fid_from_features(feat_real_a, feat_real_b),
        "n": n,
    }
    report = classifier_report or {}
    protocol = {
        "metric": "label_preservation",
        "extractor": report.get("extractor", "mnist-cnn"),
        "weights_sha256": report.get("weights_sha256"),
        "classifier_heldout_accuracy": report.get("heldout_accuracy"),
        "classifier_split": report.get("split"),
        "dataset": source.info.name,
        "n": n,
        "seed": seed,
        "directions": {
            "a2b": "G_ab(A reference) classified vs A labels; FID vs B reference",
            "b2a": "G_ba(B reference) classified vs B labels; FID vs A reference",
        },
        "grayscale": GRAYSCALE,
        "resize": RESIZE,
        "fid": "Fréchet distance of the classifier's 128-d penultimate features (float64); not Inception FID",
    }
    return LabelPreservation(scores, protocol)
