"""Glue from images to ``MetricInputs``: run the extractor once per set, reuse the features for every metric."""

from __future__ import annotations

from torch import Tensor

from ..contract.errors import MetricError
from .extractors import FeatureExtractor
from .metric_registry import MetricInputs
from .stacked_mnist import DigitClassifier


def metric_inputs_from_images(extractor: FeatureExtractor, real_images: Tensor, fake_images: Tensor, *,
                              reference_split: str | None = None, fake_labels: Tensor | None = None,
                              classifier: DigitClassifier | None = None,
                              classifier_provenance: dict | None = None) -> MetricInputs:
    """Features of both sets, plus the extractor's logits of the fakes when it is a classifier of them.

    ``classifier`` (for Stacked-MNIST modes / conditional accuracy) defaults to the extractor's network
    when the extractor is ``mnist-cnn``; then its provenance is the extractor's too.
    """
    provenance = {**extractor.protocol_fields(), "reference_split": reference_split}
    try:
        fake_features, fake_logits = extractor.features_and_logits(fake_images)
    except MetricError:  # not a classifier of these images (timm, stacked digits): no Inception Score
        fake_features, fake_logits = extractor(fake_images), None
    if classifier is None and extractor.name == "mnist-cnn":
        classifier, classifier_provenance = extractor.model, extractor.protocol_fields()
    return MetricInputs(real_features=extractor(real_images), fake_features=fake_features,
                        fake_logits=fake_logits, fake_images=fake_images, fake_labels=fake_labels,
                        classifier=classifier, feature_provenance=provenance,
                        classifier_provenance=classifier_provenance or {})
