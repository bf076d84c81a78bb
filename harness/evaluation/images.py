"""Metrics for image runs, computed in the feature space of a named extractor.

By default MNIST-like data (``mnist``, ``stacked-mnist``) is scored with the harness's own MNIST
classifier (``mnist-cnn``): classifier-FID, KID, precision/recall/density/coverage, plus
Stacked-MNIST modes and KL, and conditional accuracy for class-conditional models. Other image
data needs a feature network the user has (``inception`` with local weights, ``timm:NAME``);
without one, training reports no image metric rather than a made-up number.
Real-data features are cached per (dataset, split, reference part, extractor, protocol) under the ganzoo
cache. The reference images are ``source.reference``: the held-out part of the split when the dataset had
only one (``harness.data.holdout``), recorded in every protocol as ``reference_split``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from ..data.base import DataSource
from ..data.storage import cache_root, data_root
from ..metrics import MetricInputs, compute_metrics
from ..contract.errors import MetricError
from ..metrics.extractors import FeatureExtractor, get_extractor

MNIST_LIKE = ("mnist", "stacked-mnist")


@dataclass(frozen=True)
class ImageEvalPlan:
    extractor: str | None  # None: no feature network fits this data
    metrics: tuple[str, ...]
    reason: str = ""


def default_plan(dataset: str, conditional: bool, extractor: str | None = None) -> ImageEvalPlan:
    name = extractor or ("mnist-cnn" if dataset in MNIST_LIKE else None)
    if name is None:
        return ImageEvalPlan(None, (), f"no default feature network for {dataset!r}: pass an extractor "
                             "(inception with local weights, or timm:NAME) to `ganzoo eval`")
    metrics = ["fid", "kid", "prdc"]
    if name == "mnist-cnn" and dataset == "stacked-mnist":
        metrics.append("stacked-mnist")
    if name == "mnist-cnn" and conditional:
        metrics.append("conditional-accuracy")
    elif name == "mnist-cnn" and dataset == "mnist":
        metrics.append("class-coverage")  # which digits an unconditional model still draws
    if name == "inception":
        metrics.append("is")  # the Inception Score needs the ImageNet logits only this network has
    return ImageEvalPlan(name, tuple(metrics))


#: what `--metrics` accepts → the metric registered under that name
METRIC_ALIASES = {"modes": "stacked-mnist", "accuracy": "conditional-accuracy", "prdc": "prdc", "fid": "fid",
                  "kid": "kid", "is": "is", "stacked-mnist": "stacked-mnist",
                  "conditional-accuracy": "conditional-accuracy", "coverage-per-class": "class-coverage",
                  "class-coverage": "class-coverage"}


def choose_plan(dataset: str, conditional: bool, extractor: str | None = None,
                metrics: list[str] | None = None) -> ImageEvalPlan:
    """The default plan for this data, narrowed to ``metrics`` (names or aliases) when given."""
    plan = default_plan(dataset, conditional, extractor)
    if not metrics:
        return plan
    unknown = [m for m in metrics if m not in METRIC_ALIASES]
    if unknown:
        raise MetricError(f"unknown metric(s) {unknown}; choose from {sorted(METRIC_ALIASES)}")
    chosen = tuple(dict.fromkeys(METRIC_ALIASES[m] for m in metrics))
    if "conditional-accuracy" in chosen and not conditional:
        asked = next(m for m in metrics if METRIC_ALIASES[m] == "conditional-accuracy")
        raise MetricError(f"metric {asked!r} (conditional accuracy) asks whether each sample shows the class it was "
                          "generated for, and this model is unconditional: it draws no class. For which classes its "
                          "samples cover, use class-coverage")
    return ImageEvalPlan(plan.extractor, chosen, plan.reason)


_EXTRACTORS: dict[tuple, FeatureExtractor] = {}


def extractor_for(name: str, data_dir: Path | None, device: torch.device, **options: Any) -> FeatureExtractor:
    """One extractor per (name, data folder, options) per process: the classifier trains or loads once."""
    key = (name, str(data_dir), str(device), tuple(sorted(options.items())))
    if key not in _EXTRACTORS:
        if name == "mnist-cnn" and "weights" not in options:
            options = {**options, "data_dir": data_root(data_dir).path}
        _EXTRACTORS[key] = get_extractor(name, device=device, **options)
    return _EXTRACTORS[key]


def reference_split(source: DataSource) -> str | None:
    """Which real images metrics score against, e.g. ``test (held-out 2000)``, ``train``."""
    described = source.describe()
    return described.get("reference") or described.get("split")


def real_features(source: DataSource, extractor: FeatureExtractor, n: int, seed: int) -> Tensor:
    """Features of ``n`` reference images, cached on disk by dataset provenance and extractor identity."""
    data = {k: v for k, v in source.describe().items() if k != "cache_hit"}  # the same data, cached or not
    identity = json.dumps({"data": data, "reference": reference_split(source), "n": n, "seed": seed,
                           **extractor.protocol_fields()}, sort_keys=True, default=str)
    path = cache_root() / "features" / f"{hashlib.sha256(identity.encode()).hexdigest()[:20]}.safetensors"
    if path.exists():
        try:
            return load_file(path)["features"]
        except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed, never trusted
            path.unlink(missing_ok=True)
    features = extractor(source.reference(n, seed).real)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({"features": features.contiguous()}, str(tmp))
    tmp.replace(path)
    return features


def evaluate_images(fake: Tensor, fake_labels: Tensor | None, source: DataSource, plan: ImageEvalPlan, *,
                    data_dir: Path | None, device: torch.device, seed: int,
                    extractor_options: dict[str, Any] | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """(metric values, their protocols) for generated images ``fake`` in [-1, 1]."""
    if plan.extractor is None:
        return {}, {}
    extractor = extractor_for(plan.extractor, data_dir, device, **(extractor_options or {}))
    reals = real_features(source, extractor, len(fake), seed)
    with_logits = (plan.extractor == "mnist-cnn" and fake.shape[1] == 1) or plan.extractor == "inception"
    fake_features, fake_logits = extractor.features_and_logits(fake) if with_logits else (extractor(fake), None)
    classifier = getattr(extractor, "model", None) if plan.extractor == "mnist-cnn" else None
    provenance = {**extractor.protocol_fields(), "reference_split": reference_split(source)}
    inputs = MetricInputs(real_features=reals, fake_features=fake_features, fake_logits=fake_logits,
                          fake_images=fake, fake_labels=fake_labels, classifier=classifier,
                          feature_provenance=provenance, classifier_provenance=provenance)
    options = {"kid": {"subset_size": min(1000, len(fake), len(reals))}}
    values = compute_metrics(plan.metrics, inputs, options)
    return ({name: float(v.value) for name, v in values.items()},
            {name: v.protocol.model_dump(mode="json") for name, v in values.items()})
