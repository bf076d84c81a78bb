import pytest
import torch

from ganzoo.harness.metrics import (MetricInputs, MetricValue, Protocol, applicable_metrics, compute_metrics, list_metrics,
                                    register_metric)
from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics.metric_registry import _METRICS

from ..metrics_fixtures import digit_oracle, synthetic_digits

PROVENANCE = {"extractor": "mnist-cnn", "weights_sha256": "ab" * 32, "resize": "none", "reference_split": "test"}


def test_protocol_key_is_stable_and_sensitive_to_every_field():
    base = Protocol(metric="kid", n_real=10, n_fake=10, subset_size=5, **PROVENANCE)
    assert base.key() == Protocol(**base.model_dump()).key()
    assert base.key() == Protocol.model_validate_json(base.model_dump_json()).key()
    assert base.key() != base.model_copy(update={"subset_size": 6}).key()
    assert base.key() != base.model_copy(update={"weights_sha256": "cd" * 32}).key()
    with pytest.raises(ValueError):
        Protocol(metric="fid", unknown_field=1)


def test_values_under_different_protocols_refuse_to_compare():
    a = MetricValue(value=1.0, protocol=Protocol(metric="fid", n_fake=10))
    b = MetricValue(value=2.0, protocol=Protocol(metric="fid", n_fake=10))
    c = MetricValue(value=0.5, protocol=Protocol(metric="fid", n_fake=50))
    assert a < b and a.comparable(b)
    with pytest.raises(MetricError, match="not comparable"):
        _ = a < c


def test_registry_computes_all_feature_metrics_with_their_protocols():
    generator = torch.Generator().manual_seed(0)
    inputs = MetricInputs(real_features=torch.randn(300, 8, generator=generator),
                          fake_features=torch.randn(200, 8, generator=generator),
                          fake_logits=torch.randn(200, 10, generator=generator),
                          feature_provenance=PROVENANCE, classifier_provenance=PROVENANCE)
    assert {"fid", "kid", "is", "prdc"} <= set(applicable_metrics(inputs))
    options = {"kid": {"subsets": 5, "subset_size": 100}}
    values = compute_metrics(["fid", "kid", "is", "prdc"], inputs, options=options)
    assert set(values) == {"fid", "kid", "is", "precision", "recall", "density", "coverage"}
    assert values["kid"].protocol.subset_size == 100 and values["kid"].std is not None
    assert values["precision"].protocol.k == 3 and values["density"].protocol.k == 5
    assert values["fid"].protocol.n_real == 300
    assert values["fid"].protocol.weights_sha256 == PROVENANCE["weights_sha256"]
    assert len({value.protocol.key() for value in values.values()}) == len(values)


def test_missing_input_is_named():
    with pytest.raises(MetricError, match="needs real_features, fake_features"):
        compute_metrics(["fid"], MetricInputs())
    with pytest.raises(MetricError, match="unknown metric"):
        compute_metrics(["nope"], MetricInputs())


def test_image_metrics_through_the_registry():
    digits = torch.arange(1000) % 10
    stacked = torch.cat([synthetic_digits(digits), synthetic_digits(digits.flip(0)), synthetic_digits(digits)], dim=1)
    inputs = MetricInputs(fake_images=stacked, classifier=digit_oracle)
    values = compute_metrics(["stacked-mnist"], inputs)
    assert values["stacked_mnist_modes"].value == 10 and values["stacked_mnist_modes"].protocol.n_fake == 1000
    conditional = MetricInputs(fake_images=synthetic_digits(digits), fake_labels=digits, classifier=digit_oracle)
    assert compute_metrics(["conditional-accuracy"], conditional)["conditional_accuracy"].value == 1.0


def test_a_points_metric_plugs_in():
    """The hook the 2-D mixture metrics use: declare needs=("fake_points",), read raw points."""
    @register_metric("test-mean-norm", needs=("fake_points",))
    def mean_norm(inputs: MetricInputs) -> dict[str, MetricValue]:
        value = float(inputs.fake_points.norm(dim=1).mean())
        return {"mean_norm": MetricValue(value=value, protocol=inputs.protocol("mean_norm", source="none",
                                                                               n_fake=len(inputs.fake_points)))}
    try:
        assert "test-mean-norm" in [metric.name for metric in list_metrics()]
        values = compute_metrics(["test-mean-norm"], MetricInputs(fake_points=torch.ones(4, 2)))
        assert values["mean_norm"].value == pytest.approx(2 ** 0.5)
        with pytest.raises(MetricError, match="already registered"):
            register_metric("test-mean-norm", needs=("fake_points",))(mean_norm)
        with pytest.raises(MetricError, match="unknown inputs"):
            register_metric("test-bad", needs=("points",))
    finally:
        _METRICS.pop("test-mean-norm", None)
