"""Scoring a trained image-to-image translator (CycleGAN): does a translation keep the digit?"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from ..metrics.classifier import shipped_mnist_classifier
from ..metrics.label_preservation import Direction, LabelPreservation, label_preservation
from .sampling import eval_mode


def evaluate_translator(plugin, nets, source, data_dir: Path, cache_dir: Path | None = None, *, n: int = 1000,
                        seed: int = 0, batch_size: int = 250) -> LabelPreservation:
    """``label_preservation`` of a trained CycleGAN-style plugin (one with ``translate(nets, images, direction)``),
    with the shipped MNIST classifier (``cache_dir`` is kept for callers; nothing is trained)."""
    classifier, report = shipped_mnist_classifier()
    device = next(nets[plugin.generators[0]].parameters()).device
    classifier = classifier.to(device)

    def translate(images: Tensor, direction: Direction) -> Tensor:
        return plugin.translate(nets, images.to(device), direction)

    with eval_mode(nets):
        return label_preservation(translate, source, classifier, n=n, seed=seed, batch_size=batch_size,
                                  classifier_report=report)
