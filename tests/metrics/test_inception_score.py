import math

import pytest
import torch

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics.class_metrics import inception_score


def test_confident_and_balanced_gives_number_of_classes():
    probabilities = torch.eye(10).repeat(100, 1)  # every class equally often, each with certainty
    mean, std = inception_score(probabilities=probabilities, splits=10, shuffle=False)
    assert mean == pytest.approx(10.0, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_single_class_gives_one():
    logits = torch.full((200, 10), -20.0)
    logits[:, 3] = 20.0
    assert inception_score(logits, splits=5)[0] == pytest.approx(1.0, abs=1e-6)


def test_logits_and_probabilities_agree():
    logits = torch.randn(300, 10, generator=torch.Generator().manual_seed(0)) * 3
    from_logits = inception_score(logits, splits=3)
    from_probabilities = inception_score(probabilities=logits.double().softmax(dim=1), splits=3)
    assert from_logits == pytest.approx(from_probabilities, rel=1e-9)


def test_needs_exactly_one_input():
    with pytest.raises(MetricError):
        inception_score()
    with pytest.raises(MetricError):
        inception_score(torch.zeros(20, 10), probabilities=torch.ones(20, 10))


def test_matches_torch_fidelity():
    pytest.importorskip("torch_fidelity", reason="torch-fidelity not installed (pip install torch-fidelity)")
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = torch.randn(1000, 1008, generator=torch.Generator().manual_seed(1)) * 4
    expected = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    mean, std = inception_score(logits, splits=10, seed=2020)
    assert mean == pytest.approx(expected["inception_score_mean"], rel=1e-9)
    assert std == pytest.approx(expected["inception_score_std"], rel=1e-6)
    assert math.isfinite(mean)
