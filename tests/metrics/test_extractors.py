import pytest
import torch
from safetensors.torch import save_file

from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.metrics.classifier import SHIPPED_SHA256, MnistCnn
from ganzoo.harness.metrics.extractors import INCEPTION_FILE, MnistCnnExtractor, get_extractor, list_extractors, metric_inputs_from_images
from ganzoo.harness.metrics.metric_registry import compute_metrics


@pytest.fixture
def no_downloaded_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


def test_registry_lists_the_extractors():
    assert {"mnist-cnn", "inception", "timm:NAME"} <= set(list_extractors())
    with pytest.raises(MetricError, match="unknown feature extractor"):
        get_extractor("clip")


def test_mnist_cnn_features_for_digits_and_stacked_images(tmp_path):
    weights = tmp_path / "mnist.safetensors"
    save_file(MnistCnn().state_dict(), str(weights))
    extractor = get_extractor("mnist-cnn", weights=weights)
    assert extractor.name == "mnist-cnn" and len(extractor.weights_sha256) == 64
    digits = torch.rand(5, 1, 28, 28) * 2 - 1
    features = extractor(digits)
    assert features.shape == (5, 128) and features.dtype == torch.float32 and not features.requires_grad
    assert extractor(torch.nn.functional.pad(digits, (2, 2, 2, 2), value=-1)).shape == (5, 128)  # 32×32: resized
    stacked = extractor(torch.cat([digits, digits.flip(0), digits], dim=1))
    assert stacked.shape == (5, 384)
    assert torch.allclose(stacked[:, :128], features, atol=1e-5)
    assert torch.allclose(stacked[:, 256:], features, atol=1e-5)
    assert extractor.logits(digits).shape == (5, 10)
    with pytest.raises(MetricError, match="float images"):
        extractor(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    shipped = get_extractor("mnist-cnn")  # no weights: the shipped, fixed classifier
    assert shipped.weights_sha256 == SHIPPED_SHA256 != extractor.weights_sha256


def test_images_to_registry_end_to_end(tmp_path):
    extractor = MnistCnnExtractor(MnistCnn().eval(), weights_sha256="0" * 64)
    generator = torch.Generator().manual_seed(0)
    real = torch.rand(120, 1, 28, 28, generator=generator) * 2 - 1
    fake = torch.rand(80, 1, 28, 28, generator=generator) * 2 - 1
    inputs = metric_inputs_from_images(extractor, real, fake, reference_split="mnist/test[:120]",
                                       fake_labels=torch.arange(80) % 10)
    values = compute_metrics(["fid", "is", "prdc", "conditional-accuracy"], inputs)
    assert values["fid"].protocol.extractor == "mnist-cnn"
    assert values["fid"].protocol.reference_split == "mnist/test[:120]"
    assert values["is"].protocol.weights_sha256 == "0" * 64 and 1.0 <= values["is"].value <= 10.0
    assert values["conditional_accuracy"].protocol.extractor == "mnist-cnn"


def test_inception_missing_weights_says_where_to_put_them(no_downloaded_weights):
    with pytest.raises(MetricError) as error:
        get_extractor("inception")
    message = str(error.value)
    assert INCEPTION_FILE in message and "https://github.com/mseitzer/pytorch-fid/releases" in message
    assert str(no_downloaded_weights / "cache" / "weights" / INCEPTION_FILE) in message
    with pytest.raises(MetricError, match="does not download"):
        get_extractor("inception", weights=no_downloaded_weights / "nowhere.pth")


def test_inception_refuses_files_that_are_not_the_fid_weights(no_downloaded_weights):
    impostor = no_downloaded_weights / INCEPTION_FILE
    torch.save({"w": torch.zeros(1)}, impostor)
    with pytest.raises(MetricError, match="not the FID Inception weights"):
        get_extractor("inception", weights=impostor)


@pytest.mark.slow
def test_inception_loading_code_with_random_weights(no_downloaded_weights):
    """The real loading and forward path, with torchvision's randomly initialised Inception-v3 (same keys)."""
    pytest.importorskip("torch_fidelity", reason="torch-fidelity not installed (pip install torch-fidelity)")
    from torchvision.models import inception_v3

    weights = no_downloaded_weights / "random-inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008).state_dict(), weights)
    extractor = get_extractor("inception", weights=weights, verify=False)
    images = torch.rand(2, 1, 32, 32) * 2 - 1
    assert extractor(images).shape == (2, 2048) and extractor.logits(images).shape == (2, 1008)
    assert extractor.protocol_fields()["extractor"] == "inception"


def test_timm_needs_a_local_file(no_downloaded_weights):
    with pytest.raises(MetricError, match="needs a local weights file"):
        get_extractor("timm:resnet18")


def test_timm_model_from_local_weights(tmp_path):
    timm = pytest.importorskip("timm")
    weights = tmp_path / "test_vit.safetensors"
    save_file(timm.create_model("test_vit", num_classes=0).state_dict(), str(weights))
    extractor = get_extractor("timm:test_vit", weights=weights)
    features = extractor(torch.rand(3, 1, 28, 28) * 2 - 1)
    assert features.shape == (3, extractor.model.num_features) and extractor.name == "timm:test_vit"
    assert "160x160" in extractor.resize and len(extractor.weights_sha256) == 64
