"""Sample-quality metrics: pure functions on features, a registry by name, and the protocol behind each number.

``compute_metrics(["fid", "kid", "prdc"], MetricInputs(...))`` returns ``MetricValue``s that carry their
``Protocol`` (extractor, weights sha256, sample counts, k, seed ...). Importing this package registers
the built-in metrics (``standard_metrics``).
"""

from . import standard_metrics as _standard_metrics  # noqa: F401  (registers fid, kid, is, prdc, ...)
from ..contract.errors import MetricError
from .frechet import feature_statistics, fid_from_features, frechet_distance
from .kid import kernel_inception_distance
from .prdc import density_coverage, prdc, prdc_by_k, precision_recall
from .protocol import MetricValue, Protocol, default_cache_dir
from .metric_registry import MetricInputs, applicable_metrics, compute_metrics, list_metrics, register_metric
from .class_metrics import conditional_accuracy, inception_score, stacked_mnist_modes

__all__ = [
    "MetricError", "MetricInputs", "MetricValue", "Protocol", "applicable_metrics", "compute_metrics",
    "conditional_accuracy", "default_cache_dir", "density_coverage", "feature_statistics", "fid_from_features",
    "frechet_distance", "inception_score", "kernel_inception_distance", "list_metrics", "prdc", "prdc_by_k",
    "precision_recall", "register_metric", "stacked_mnist_modes",
]
