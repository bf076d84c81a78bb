"""One registry of metrics by name, all fed from one ``MetricInputs`` and all returning ``MetricValue``s.

A metric declares the inputs it needs; the harness fills what it has (features for FID/KID/PRDC,
logits for IS, images and a classifier for mode counting, raw 2-D points for the mixtures) and
``compute_metrics`` runs the requested ones, or tells which input is missing. Adding a metric is
one decorated function, nowhere else to edit::

    @register_metric("mixture-modes", needs=("fake_points",))
    def mixture_modes(inputs: MetricInputs, *, mixture: str = "ring") -> dict[str, MetricValue]:
        ...
        return {"modes": MetricValue(value=modes, protocol=inputs.protocol("modes", n_fake=len(points)))}

Feature and classifier provenance (extractor name, weights sha256, resize, reference split) travel in
``MetricInputs`` so every metric writes the same ``Protocol`` fields without knowing where they came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from torch import Tensor

from ..contract.errors import MetricError
from .protocol import MetricValue, Protocol


@dataclass
class MetricInputs:
    """Everything a metric may consume; each metric uses the fields it declares in ``needs``."""

    real_features: Tensor | None = None  # (N, d) reference features from an extractor
    fake_features: Tensor | None = None  # (M, d) generated-sample features, same extractor
    fake_logits: Tensor | None = None  # (M, classes) the feature extractor's logits of generated samples (IS)
    fake_images: Tensor | None = None  # (M, C, H, W) generated images in [-1, 1] (mode counting, accuracy)
    fake_labels: Tensor | None = None  # (M,) class each generated image was asked for (conditional models)
    classifier: Callable[[Tensor], Tensor] | None = None  # (M, 1, H, W) in [-1, 1] -> (M, 10) digit logits
    real_points: Tensor | None = None  # (N, 2) raw samples, for metrics on points rather than features
    fake_points: Tensor | None = None  # (M, 2)
    # Protocol fields of the feature extractor (extractor, weights_sha256, resize, reference_split) and of the
    # digit classifier; every metric copies the matching one into its Protocol.
    feature_provenance: dict[str, Any] = field(default_factory=dict)
    classifier_provenance: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # anything else a registered metric documents it needs

    def protocol(self, metric: str, *, source: str = "features", **values: Any) -> Protocol:
        """A ``Protocol`` for ``metric`` from the provenance of ``source`` ('features', 'classifier' or 'none')."""
        provenance = {"features": self.feature_provenance, "classifier": self.classifier_provenance,
                      "none": {}}[source]
        return Protocol(metric=metric, **{**provenance, **values})


INPUT_NAMES = frozenset(f.name for f in fields(MetricInputs)) - {"feature_provenance", "classifier_provenance",
                                                                  "extras"}

MetricFunction = Callable[..., dict[str, MetricValue]]


@dataclass(frozen=True)
class RegisteredMetric:
    name: str
    needs: tuple[str, ...]
    function: MetricFunction
    description: str

    def missing(self, inputs: MetricInputs) -> list[str]:
        return [need for need in self.needs if getattr(inputs, need) is None]


_METRICS: dict[str, RegisteredMetric] = {}


def register_metric(name: str, *, needs: Iterable[str]) -> Callable[[MetricFunction], MetricFunction]:
    """Decorator: register ``function(inputs, **options) -> {value name: MetricValue}`` under ``name``."""
    needs = tuple(needs)
    unknown = set(needs) - INPUT_NAMES
    if unknown:
        raise MetricError(f"metric {name!r} needs unknown inputs {sorted(unknown)}; "
                          f"MetricInputs has {sorted(INPUT_NAMES)}")

    def decorate(function: MetricFunction) -> MetricFunction:
        if name in _METRICS:
            raise MetricError(f"metric {name!r} is already registered")
        description = (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else ""
        _METRICS[name] = RegisteredMetric(name, needs, function, description)
        return function
    return decorate


def list_metrics() -> list[RegisteredMetric]:
    return [_METRICS[name] for name in sorted(_METRICS)]


def get_metric(name: str) -> RegisteredMetric:
    if name not in _METRICS:
        raise MetricError(f"unknown metric {name!r}; registered: {', '.join(sorted(_METRICS))}")
    return _METRICS[name]


def applicable_metrics(inputs: MetricInputs) -> list[str]:
    """Names of the metrics whose inputs are all present."""
    return [metric.name for metric in list_metrics() if not metric.missing(inputs)]


def compute_metrics(names: Iterable[str], inputs: MetricInputs,
                    options: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, MetricValue]:
    """Run the named metrics; ``options[name]`` are keyword arguments of that metric (e.g. kid subset_size)."""
    options = options or {}
    results: dict[str, MetricValue] = {}
    for name in names:
        metric = get_metric(name)
        missing = metric.missing(inputs)
        if missing:
            raise MetricError(f"metric {name!r} needs {', '.join(missing)} in MetricInputs")
        for value_name, value in metric.function(inputs, **options.get(name, {})).items():
            if value_name in results:
                raise MetricError(f"metrics disagree on who owns the value {value_name!r}")
            results[value_name] = value
    return results
