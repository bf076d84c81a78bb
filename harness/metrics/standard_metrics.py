"""The built-in metrics, registered by name: fid, kid, is, prdc, stacked-mnist, conditional-accuracy.

Each is a thin adapter from ``MetricInputs`` to the pure function that computes it, writing the
protocol fields that change its value (sample counts, k, subset size, seed, splits).
"""

from __future__ import annotations

from . import kid as kid_module
from .frechet import fid_from_features
from .class_metrics import DEFAULT_SEED as IS_DEFAULT_SEED
from .class_metrics import DEFAULT_SPLITS, conditional_accuracy, inception_score, stacked_mnist_modes
from .prdc import DENSITY_COVERAGE_K, PRECISION_RECALL_K, prdc_by_k
from .protocol import MetricValue
from .metric_registry import MetricInputs, register_metric


def _counts(inputs: MetricInputs) -> dict[str, int]:
    return {"n_real": len(inputs.real_features), "n_fake": len(inputs.fake_features)}


@register_metric("fid", needs=("real_features", "fake_features"))
def fid(inputs: MetricInputs) -> dict[str, MetricValue]:
    """Fréchet distance between Gaussians fitted to real and fake features (float64)."""
    value = fid_from_features(inputs.real_features, inputs.fake_features)
    return {"fid": MetricValue(value=value, protocol=inputs.protocol("fid", **_counts(inputs)))}


@register_metric("kid", needs=("real_features", "fake_features"))
def kid(inputs: MetricInputs, *, subsets: int = kid_module.DEFAULT_SUBSETS,
        subset_size: int = kid_module.DEFAULT_SUBSET_SIZE,
        seed: int = kid_module.DEFAULT_SEED) -> dict[str, MetricValue]:
    """Unbiased MMD² with the cubic polynomial kernel, mean ± std over random subsets."""
    mean, std = kid_module.kernel_inception_distance(inputs.real_features, inputs.fake_features, subsets=subsets,
                                                     subset_size=subset_size, seed=seed)
    protocol = inputs.protocol("kid", **_counts(inputs), subsets=subsets, subset_size=subset_size, seed=seed)
    return {"kid": MetricValue(value=mean, std=std, protocol=protocol)}


@register_metric("is", needs=("fake_logits",))
def inception_score_metric(inputs: MetricInputs, *, splits: int = DEFAULT_SPLITS,
                           seed: int = IS_DEFAULT_SEED) -> dict[str, MetricValue]:
    """Inception Score of the extractor's logits on generated samples, mean ± std over splits."""
    mean, std = inception_score(inputs.fake_logits, splits=splits, seed=seed)
    protocol = inputs.protocol("is", n_fake=len(inputs.fake_logits), splits=splits, seed=seed)
    return {"is": MetricValue(value=mean, std=std, protocol=protocol)}


@register_metric("prdc", needs=("real_features", "fake_features"))
def precision_recall_density_coverage(inputs: MetricInputs, *, pr_k: int = PRECISION_RECALL_K,
                                      dc_k: int = DENSITY_COVERAGE_K) -> dict[str, MetricValue]:
    """Precision/recall at k=3 (Kynkäänniemi 2019) and density/coverage at k=5 (Naeem 2020), one k-NN pass."""
    by_k = prdc_by_k(inputs.real_features, inputs.fake_features, [pr_k, dc_k])
    values = {"precision": pr_k, "recall": pr_k, "density": dc_k, "coverage": dc_k}
    return {name: MetricValue(value=by_k[k][name], protocol=inputs.protocol(name, **_counts(inputs), k=k))
            for name, k in values.items()}


@register_metric("stacked-mnist", needs=("fake_images", "classifier"))
def stacked_mnist(inputs: MetricInputs, *, batch_size: int = 128) -> dict[str, MetricValue]:
    """Modes captured (of 1,000) and KL(generated ‖ uniform) of Stacked-MNIST samples."""
    result = stacked_mnist_modes(inputs.classifier, inputs.fake_images, batch_size)
    protocol = {"source": "classifier", "n_fake": result.n_samples}
    return {"stacked_mnist_modes": MetricValue(value=result.modes,
                                               protocol=inputs.protocol("stacked_mnist_modes", **protocol)),
            "stacked_mnist_kl": MetricValue(value=result.kl, protocol=inputs.protocol("stacked_mnist_kl", **protocol))}


@register_metric("conditional-accuracy", needs=("fake_images", "fake_labels", "classifier"))
def conditional_accuracy_metric(inputs: MetricInputs, *, batch_size: int = 128) -> dict[str, MetricValue]:
    """Fraction of class-conditional samples that the classifier assigns to the requested class."""
    value = conditional_accuracy(inputs.classifier, inputs.fake_images, inputs.fake_labels, batch_size)
    protocol = inputs.protocol("conditional_accuracy", source="classifier", n_fake=len(inputs.fake_images))
    return {"conditional_accuracy": MetricValue(value=value, protocol=protocol)}


@register_metric("class-coverage", needs=("fake_images", "classifier"))
def class_coverage(inputs: MetricInputs, *, batch_size: int = 128, min_fraction: float = 0.01) -> dict[str, MetricValue]:
    """Per-class coverage of unconditional digit samples: classes holding ≥ min_fraction of samples, KL to uniform."""
    from .class_metrics import class_histogram, kl_to_uniform, predict_classes

    labels = predict_classes(inputs.classifier, inputs.fake_images, batch_size)
    histogram = class_histogram(labels, 10)
    covered = int((histogram >= max(1, min_fraction * len(labels))).sum())
    protocol = {"source": "classifier", "n_fake": len(labels)}
    return {"classes_covered": MetricValue(value=covered, protocol=inputs.protocol(
                "classes_covered", **protocol)),
            "class_kl": MetricValue(value=kl_to_uniform(histogram), protocol=inputs.protocol("class_kl", **protocol))}
