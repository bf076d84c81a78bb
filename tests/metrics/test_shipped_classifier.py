"""The MNIST classifier is shipped, fixed and identified by its hash, as torch-fidelity's Inception is."""

from pathlib import Path

import pytest
import torch

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics import classifier as classifier_module
from ganzoo.harness.metrics.protocol import file_sha256
from ganzoo.harness.metrics.classifier import SHIPPED_SHA256, shipped_mnist_classifier, shipped_weights_path

from ..metrics_fixtures import require_mnist

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_file_has_the_hash_the_code_and_the_docs_name():
    assert shipped_weights_path() == REPO / "harness" / "metrics" / "weights" / "mnist-cnn.safetensors"
    assert file_sha256(shipped_weights_path()) == SHIPPED_SHA256
    assert SHIPPED_SHA256 in (REPO / "README.md").read_text()
    assert SHIPPED_SHA256[:12] in (REPO / "harness" / "registry.toml").read_text()  # the mnist suite's text
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"weights/mnist-cnn.safetensors"' in pyproject  # package data: the wheel carries it


def test_its_report_says_what_it_was_trained_on_and_how_well():
    _, report = shipped_mnist_classifier()
    assert report["weights_sha256"] == SHIPPED_SHA256 and report["shipped"] is True
    assert report["heldout_accuracy"] >= 0.99 and report["n_heldout"] == 2000
    assert report["recipe"] == classifier_module.RECIPE  # the recipe `ganzoo classifier train` uses


def test_a_changed_file_is_refused_in_one_line(monkeypatch, tmp_path):
    changed = tmp_path / "weights" / "mnist-cnn.safetensors"
    changed.parent.mkdir()
    changed.write_bytes(shipped_weights_path().read_bytes()[:-1] + b" ")
    monkeypatch.setattr(classifier_module, "shipped_weights_path", lambda: changed)
    with pytest.raises(MetricError, match="was changed; reinstall ganzoo") as caught:
        shipped_mnist_classifier()
    assert "\n" not in str(caught.value)


def test_it_reads_held_out_digits_as_its_report_says():
    data = require_mnist()
    model, report = shipped_mnist_classifier()
    images, labels = classifier_module.plan_digits(data, "eval")
    with torch.no_grad():
        accuracy = classifier_module.accuracy(model, images, labels)
    assert accuracy == pytest.approx(report["heldout_accuracy"], abs=1e-9)
