import json
from pathlib import Path

import pytest
import torch

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics import classifier as classifier_module
from ganzoo.harness.metrics.protocol import default_cache_dir
from ganzoo.harness.metrics.classifier import MnistCnn, cache_key, load_mnist_classifier, mnist_split_plan, plan_digits, random_affine, to_signed_unit, train_mnist_classifier
from ganzoo.harness.metrics.class_metrics import conditional_accuracy

from ..metrics_fixtures import cached_mnist_classifier, require_mnist


@pytest.fixture(scope="module")
def mnist_data_dir():
    return require_mnist()


def test_shapes_and_32px_inputs():
    model = MnistCnn().eval()
    assert model.features(torch.zeros(4, 1, 28, 28)).shape == (4, 128)
    assert model.logits(torch.zeros(4, 1, 32, 32)).shape == (4, 10)  # resized to 28×28
    with pytest.raises(MetricError, match=r"\(N, 1, H, W\)"):
        model.logits(torch.zeros(4, 3, 28, 28))


def test_augmentation_keeps_range_and_background():
    images = to_signed_unit(torch.zeros(8, 28, 28, dtype=torch.uint8))
    warped = random_affine(images, torch.Generator().manual_seed(0))
    assert torch.allclose(warped, images)  # an empty (all -1) digit stays empty: padding is background
    digits = torch.rand(8, 1, 28, 28) * 2 - 1
    assert random_affine(digits, torch.Generator().manual_seed(0)).abs().max() <= 1 + 1e-6


def test_default_cache_dir_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("GANZOO_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "ganzoo")


def test_cache_key_follows_recipe_and_split_plan(mnist_data_dir, monkeypatch):
    key = cache_key(mnist_data_dir)
    assert key == cache_key(mnist_data_dir) and len(key) == 16
    monkeypatch.setitem(classifier_module.RECIPE, "steps", classifier_module.RECIPE["steps"] + 1)
    assert cache_key(mnist_data_dir) != key
    description = mnist_split_plan(mnist_data_dir)["description"]
    assert "held-out" in description or "train" in description


def test_training_works_when_called_under_no_grad(monkeypatch):
    """A caller measuring samples under torch.no_grad() may be the first to need the classifier."""
    monkeypatch.setitem(classifier_module.RECIPE, "steps", 2)
    images, labels = torch.rand(16, 1, 28, 28) * 2 - 1, torch.arange(16) % 10
    torch.manual_seed(0)
    before = MnistCnn().state_dict()  # the initial weights _train starts from (it seeds with `seed`)
    with torch.no_grad():
        model = classifier_module._train(images, labels, seed=0)
        assert not torch.is_grad_enabled()  # the caller's mode is back
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items() if v.is_floating_point())


def test_missing_data_is_a_metric_error(tmp_path):
    with pytest.raises(MetricError, match="no MNIST split"):
        train_mnist_classifier(tmp_path, tmp_path / "cache")


def test_cached_weights_load_without_training(mnist_data_dir, tmp_path, monkeypatch):
    """A cache entry whose sha256 matches its report is loaded as is; a tampered one is retrained."""
    model, report = _write_fake_cache_entry(mnist_data_dir, tmp_path)
    loaded, loaded_report = train_mnist_classifier(mnist_data_dir, tmp_path)
    assert loaded_report["from_cache"] and loaded_report["heldout_accuracy"] == 0.5
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)
    monkeypatch.setitem(classifier_module.RECIPE, "steps", 2)  # tiny recipe: new key, so a real (fast) training run
    _, fresh = train_mnist_classifier(mnist_data_dir, tmp_path)
    assert not fresh["from_cache"] and fresh["cache_key"] != report["cache_key"]
    assert "2,000 held-out" in fresh["split"] or "MNIST train" in fresh["split"]


def _write_fake_cache_entry(data_dir, cache_dir):
    from safetensors.torch import save_file

    from ganzoo.harness.metrics.protocol import file_sha256

    key = cache_key(data_dir)
    weights = cache_dir / "mnist-cnn" / f"mnist-cnn-{key}-seed0.safetensors"
    weights.parent.mkdir(parents=True)
    model = MnistCnn().eval()
    save_file(model.state_dict(), str(weights))
    report = {"heldout_accuracy": 0.5, "cache_key": key, "weights_sha256": file_sha256(weights)}
    weights.with_suffix(".json").write_text(json.dumps(report))
    assert load_mnist_classifier(weights) is not None
    return model, report


@pytest.mark.slow
def test_classifier_reaches_heldout_accuracy(mnist_data_dir, tmp_path_factory):
    model, report = cached_mnist_classifier(tmp_path_factory)
    images, labels = plan_digits(mnist_data_dir, "eval")  # the held-out part of test (all of it when train exists)
    assert len(labels) == report["n_heldout"]
    accuracy = conditional_accuracy(model, images, labels)
    print(f"\nMNIST classifier held-out accuracy {accuracy:.4f} ({report['split']}); "
          f"cache key {report['cache_key']}, weights sha256 {report['weights_sha256'][:12]}…, "
          f"trained in {report['train_seconds']} s, from cache: {report['from_cache']}")
    assert accuracy >= 0.985
    assert accuracy == pytest.approx(report["heldout_accuracy"], abs=1e-9)
    _, second = train_mnist_classifier(mnist_data_dir, Path(report["weights_path"]).parents[1])
    assert second["from_cache"] and second["weights_sha256"] == report["weights_sha256"]
