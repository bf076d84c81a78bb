"""Scoring a trained plugin with the metrics that fit its data (samples come from ``sampling``), and
a trained image-to-image translator (CycleGAN): does a translation keep the digit?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from ..data.base import DataSource
from ..data.mixtures import MixtureSource
from ..metrics.mixture import mixture_scores
from ..contract.gan_plugin import GANPlugin, Networks
from ..contract.model_spec import DataKind
from .sampling import balanced_labels, eval_mode, generate

if TYPE_CHECKING:  # pragma: no cover
    from ..metrics.label_preservation import Direction, LabelPreservation


def evaluate_with_protocols(plugin: GANPlugin, nets: Networks, source: DataSource, n: int, seed: int,
                            device: torch.device, data_dir: Path | None = None,
                            extractor: str | None = None, extractor_options: dict[str, Any] | None = None,
                            ) -> tuple[dict[str, float | int], dict[str, Any]]:
    """(metric values, the protocol behind each) for the metrics that apply to this data, on ``n`` samples.
    ``extractor_options``: passed to the feature network, e.g. ``{"weights": PATH}`` for local weights."""
    if isinstance(source, MixtureSource):
        return mixture_metrics(generate(plugin, nets, n, seed, device), source, seed)
    if source.info.kind == DataKind.images:
        from .images import default_plan, evaluate_images

        plan = default_plan(source.info.name, plugin.spec.conditional, extractor)
        if plan.extractor is None:
            return {}, {}
        labels = balanced_labels(n, source.info.num_classes, device) if plugin.spec.conditional else None
        fake = generate(plugin, nets, n, seed, device, labels=labels)
        return evaluate_images(fake, None if labels is None else labels.cpu(), source, plan, data_dir=data_dir,
                               device=device, seed=seed, extractor_options=extractor_options)
    if source.info.kind == DataKind.unpaired_images:
        if getattr(source, "label_classifier", None) != "mnist-cnn" or not callable(getattr(plugin, "translate", None)):
            return {}, {}
        from ..data.storage import data_root

        result = evaluate_translator(plugin, nets, source, data_root(data_dir).path, n=min(n, 5000), seed=seed)
        return result.scores, {name: result.protocol for name in result.scores}
    return {}, {}


def mixture_metrics(samples: Tensor, source: MixtureSource, seed: int) -> tuple[dict[str, float | int], dict[str, Any]]:
    """Modes captured, high-quality fraction and reverse KL of 2-D points (the VEEGAN/PacGAN protocol)."""
    scores = mixture_scores(samples, source.centers, source.std).as_dict()
    protocol = {"metric": "mixture", "dataset": source.info.name, "n_fake": len(samples), "seed": seed,
                "high_quality_within_std": 3.0, "reverse_kl": "KL(high-quality mode histogram || uniform)"}
    return scores, {name: protocol for name in scores}


@torch.no_grad()
def translation_grid(plugin: GANPlugin, nets: Networks, source: DataSource, n: int, seed: int,
                     device: torch.device) -> Tensor:
    """Rows [a | G_ab(a) | G_ba(G_ab(a)) | b | G_ba(b) | G_ab(G_ba(b))] of n reference pairs (CPU; nrow=6)."""
    pair = source.reference_pair(n, seed)
    with eval_mode(nets):
        return plugin.translation_grid(nets, pair.real.to(device), pair.real_b.to(device)).float().cpu()


def evaluate(plugin: GANPlugin, nets: Networks, source: DataSource, n: int, seed: int,
             device: torch.device, data_dir: Path | None = None) -> dict[str, float | int]:
    """The metrics that apply to this data kind, on ``n`` generated samples."""
    return evaluate_with_protocols(plugin, nets, source, n, seed, device, data_dir)[0]


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def evaluate_translator(plugin, nets, source, data_dir: Path, cache_dir: Path | None = None, *, n: int = 1000,
                        seed: int = 0, batch_size: int = 250) -> LabelPreservation:
    """``label_preservation`` of a trained CycleGAN-style plugin (one with ``translate(nets, images, direction)``),
    with the shipped MNIST classifier (``cache_dir`` is kept for callers; nothing is trained). The
    classifier loads only here."""
    from ..metrics.classifier import shipped_mnist_classifier
    from ..metrics.label_preservation import label_preservation

    classifier, report = shipped_mnist_classifier()
    device = next(nets[plugin.generators[0]].parameters()).device
    classifier = classifier.to(device)

    def translate(images: Tensor, direction: Direction) -> Tensor:
        return plugin.translate(nets, images.to(device), direction)

    with eval_mode(nets):
        return label_preservation(translate, source, classifier, n=n, seed=seed, batch_size=batch_size,
                                  classifier_report=report)
