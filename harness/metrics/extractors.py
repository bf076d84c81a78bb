"""Feature extractors by name: the network whose feature space FID/KID/PRDC are measured in.

Every extractor states what it is (``name``, ``weights_sha256``), how it resizes (``resize``) and what
it takes (``input``), so each number can record it in its ``Protocol``. Calling one maps images in
[-1, 1], (N, C, H, W), to float32 CPU features (N, d), in batches, without gradients.

- ``mnist-cnn``: the harness's own MNIST classifier (``classifier.py``), 128-d penultimate features.
  A 3-channel (Stacked-MNIST) image is featurised channel by channel and the three 128-d vectors
  concatenated (384-d), so the distance sees every digit and which channel holds it (averaging the
  channels would blur three digits into one non-digit).
- ``inception``: Inception-v3 pool3 (2048-d) of torch-fidelity with the FID weights
  ``pt_inception-2015-12-05-6726825d.pth``: the published-FID feature space.
- ``timm:NAME``: any timm model with ``num_classes=0`` (its pooled features), weights from a local file.

:func:`metric_inputs_from_images` is the glue from images to ``MetricInputs``: it runs the extractor once
per set and the features serve every metric.

Nothing here downloads: a missing weights file is a ``MetricError`` that says where to put it.
torch-fidelity and timm are imported only when their extractor is built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .class_metrics import DigitClassifier
from .classifier import MnistCnn, load_mnist_classifier, shipped_mnist_classifier
from .metric_registry import MetricInputs
from .protocol import default_cache_dir, file_sha256
from ..contract.errors import MetricError


class FeatureExtractor(ABC):
    """A frozen network from images in [-1, 1] to feature vectors."""

    name: str
    weights_sha256: str
    resize: str
    input: str
    batch_size: int = 250

    def __call__(self, images: Tensor) -> Tensor:
        """(N, d) float32 CPU features of (N, C, H, W) images in [-1, 1]."""
        return self._batched(self.features_batch, images)

    def logits(self, images: Tensor) -> Tensor:
        """(N, classes) float32 class logits, for extractors that are classifiers (Inception Score)."""
        raise MetricError(f"extractor {self.name!r} has no classification head")

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Both at once; classifiers override this to run the network a single time."""
        return self(images), self.logits(images)

    @abstractmethod
    def features_batch(self, images: Tensor) -> Tensor:
        """Features of one batch (called under no_grad)."""

    def protocol_fields(self) -> dict[str, str]:
        """The part of a ``Protocol`` this extractor determines."""
        return {"extractor": self.name, "weights_sha256": self.weights_sha256, "resize": self.resize}

    def _batched(self, function: Callable[[Tensor], Tensor], images: Tensor) -> Tensor:
        if images.dim() != 4:
            raise MetricError(f"{self.name} takes (N, C, H, W) images in [-1, 1], got shape {tuple(images.shape)}")
        if images.dtype == torch.uint8:
            raise MetricError(f"{self.name} takes float images in [-1, 1], got uint8; convert with x / 127.5 - 1")
        with torch.no_grad():
            return torch.cat([function(images[i:i + self.batch_size]).float().cpu()
                              for i in range(0, len(images), self.batch_size)])


_FACTORIES: dict[str, Callable[..., FeatureExtractor]] = {}


def register_extractor(name: str) -> Callable[[Callable[..., FeatureExtractor]], Callable[..., FeatureExtractor]]:
    """Decorator: make a factory ``(**options) -> FeatureExtractor`` available to ``get_extractor(name)``."""
    def decorate(factory: Callable[..., FeatureExtractor]) -> Callable[..., FeatureExtractor]:
        if name in _FACTORIES:
            raise MetricError(f"feature extractor {name!r} is already registered")
        _FACTORIES[name] = factory
        return factory
    return decorate


def list_extractors() -> list[str]:
    return sorted(_FACTORIES) + ["timm:NAME"]


def get_extractor(name: str, **options: Any) -> FeatureExtractor:
    """Build an extractor by name: ``mnist-cnn``, ``inception``, ``timm:<model name>``."""
    if name.startswith("timm:"):
        return TimmExtractor(name.removeprefix("timm:"), **options)
    if name not in _FACTORIES:
        raise MetricError(f"unknown feature extractor {name!r}; known: {', '.join(list_extractors())}")
    return _FACTORIES[name](**options)


# --- mnist-cnn -----------------------------------------------------------------------------------


class MnistCnnExtractor(FeatureExtractor):
    name = "mnist-cnn"
    resize = "28x28 as is; other sizes bilinear+antialias to 28x28 (torch interpolate)"
    input = "(N, 1, H, W) digits in [-1, 1]; (N, 3, H, W) Stacked-MNIST: per channel, features concatenated"
    batch_size = 128  # small batches: big ones spend more time in page faults than in convolutions on CPU

    def __init__(self, model: MnistCnn, weights_sha256: str, device: str | torch.device | None = None) -> None:
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.model = model.to(self.device).eval().requires_grad_(False)
        self.weights_sha256 = weights_sha256

    def _per_channel(self, function: Callable[[Tensor], Tensor], images: Tensor) -> Tensor:
        images = images.to(self.device)
        if images.shape[1] == 1:
            return function(images)
        if images.shape[1] == 3:
            return torch.cat([function(images[:, c:c + 1]) for c in range(3)], dim=1)
        raise MetricError(f"mnist-cnn takes 1- or 3-channel images, got {images.shape[1]} channels")

    def features_batch(self, images: Tensor) -> Tensor:
        return self._per_channel(self.model.features, images)

    def logits(self, images: Tensor) -> Tensor:
        """Digit logits (N, 10) of single-channel images."""
        return self.features_and_logits(images)[1]

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        if images.dim() != 4 or images.shape[1] != 1:
            raise MetricError(f"mnist-cnn logits take (N, 1, H, W) images, got {tuple(images.shape)}")
        both = self._batched(self._features_then_logits, images)
        return both[:, :self.model.feature_dim], both[:, self.model.feature_dim:]

    def _features_then_logits(self, images: Tensor) -> Tensor:
        features = self.model.features(images.to(self.device))
        return torch.cat([features, self.model.head(features)], dim=1)


@register_extractor("mnist-cnn")
def mnist_cnn(*, weights: str | Path | None = None, data_dir: str | Path | None = None,
              cache_dir: str | Path | None = None, seed: int = 0,
              device: str | torch.device | None = None) -> MnistCnnExtractor:
    """The shipped, fixed classifier (sha256 checked), or the weights file given (e.g. one that
    ``ganzoo classifier train`` wrote; its numbers are not comparable with the shipped network's).
    ``data_dir``, ``cache_dir`` and ``seed`` are accepted for callers that pass every extractor the same
    options; no classifier is trained here."""
    if weights is not None:
        weights = Path(weights)
        if not weights.is_file():
            raise MetricError(f"mnist-cnn weights file {weights} does not exist")
        return MnistCnnExtractor(load_mnist_classifier(weights), file_sha256(weights), device)
    model, report = shipped_mnist_classifier()
    return MnistCnnExtractor(model, report["weights_sha256"], device)


# --- inception -----------------------------------------------------------------------------------

INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_FILE_TORCH_FIDELITY = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's name, same weights
INCEPTION_SHA256_PREFIX = "6726825d"  # torch.hub convention: the file name carries its sha256 prefix
INCEPTION_URLS = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + INCEPTION_FILE,
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + INCEPTION_FILE_TORCH_FIDELITY,
)


def inception_weight_candidates() -> list[Path]:
    """Where we look for the FID Inception weights, in order (after an explicit ``weights=``)."""
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    return [default_cache_dir() / "weights" / INCEPTION_FILE, hub / INCEPTION_FILE, hub / INCEPTION_FILE_TORCH_FIDELITY]


def find_inception_weights(weights: str | Path | None = None) -> Path:
    if weights is not None:
        if Path(weights).is_file():
            return Path(weights)
        looked = [Path(weights)]
    else:
        looked = inception_weight_candidates()
        for candidate in looked:
            if candidate.is_file():
                return candidate
    raise MetricError(
        "the FID Inception-v3 weights are missing (this machine does not download). Looked for: "
        + ", ".join(str(path) for path in looked)
        + f". On a machine with network access download {INCEPTION_URLS[0]} (or torch-fidelity's copy "
        f"{INCEPTION_URLS[1]}), put it at {inception_weight_candidates()[0]}, or give its path with "
        "--extractor-weights PATH (`ganzoo run` and `ganzoo eval`; weights=PATH in Python).")


class InceptionExtractor(FeatureExtractor):
    name = "inception"
    resize = "uint8 quantisation, then torch-fidelity TF1-compatible bilinear to 299x299"
    input = "(N, 3, H, W) or (N, 1, H, W) (repeated to RGB) in [-1, 1]"
    batch_size = 100

    def __init__(self, weights: str | Path | None = None, *, verify: bool = True,
                 device: str | torch.device | None = None) -> None:
        path = find_inception_weights(weights)
        self.weights_sha256 = file_sha256(path)
        if verify and not self.weights_sha256.startswith(INCEPTION_SHA256_PREFIX):
            raise MetricError(f"{path} has sha256 {self.weights_sha256}, which does not start with "
                              f"{INCEPTION_SHA256_PREFIX}: not the FID Inception weights; FIDs from it are not "
                              f"comparable with published ones (download {INCEPTION_URLS[0]})")
        try:
            torch.load(path, map_location="cpu", weights_only=True)  # refuse pickles that would run code
        except Exception as error:  # noqa: BLE001 - any failure means "not a plain state dict"
            raise MetricError(f"{path} is not a plain tensor state dict ({error}); refusing to load it") from error
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        except ImportError as error:
            raise MetricError("the inception extractor needs torch-fidelity: pip install 'ganzoo[metrics]' "
                              "(or pip install torch-fidelity)") from error
        # torch-fidelity re-reads the file with weights_only=False; the check above proved it holds only tensors.
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.network = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(path),
        ).to(self.device).eval()

    def _uint8_rgb(self, images: Tensor) -> Tensor:
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        if images.shape[1] != 3:
            raise MetricError(f"inception takes 1- or 3-channel images, got {images.shape[1]} channels")
        return ((images.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).to(self.device)

    def features_batch(self, images: Tensor) -> Tensor:
        return self.network(self._uint8_rgb(images))[0]

    def logits(self, images: Tensor) -> Tensor:
        """The 1008-way logits without bias (torch-fidelity's ``logits_unbiased``, used for IS)."""
        return self.features_and_logits(images)[1]

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        both = self._batched(lambda batch: torch.cat(self.network(self._uint8_rgb(batch)), dim=1), images)
        return both[:, :2048], both[:, 2048:]


register_extractor("inception")(InceptionExtractor)


# --- timm ----------------------------------------------------------------------------------------


class TimmExtractor(FeatureExtractor):
    """Pooled features of a timm model (``num_classes=0``) with weights from a local file."""

    input = "(N, 3, H, W) or (N, 1, H, W) (repeated to RGB) in [-1, 1]"
    batch_size = 100

    def __init__(self, model_name: str, weights: str | Path | None = None, *,
                 device: str | torch.device | None = None) -> None:
        if weights is None or not Path(weights).is_file():
            raise MetricError(
                f"timm:{model_name} needs a local weights file (this machine does not download): pass "
                f"--extractor-weights PATH (weights=PATH in Python) to a .safetensors/.pth state dict of timm "
                f"model {model_name!r}, e.g. the "
                f"model.safetensors from https://huggingface.co/timm/{model_name}"
                + (f"; {weights} does not exist" if weights is not None else ""))
        try:
            import timm
        except ImportError as error:
            raise MetricError("timm extractors need timm: pip install timm") from error
        self.name = f"timm:{model_name}"
        self.weights_sha256 = file_sha256(Path(weights))
        try:
            model = timm.create_model(model_name, pretrained=True, num_classes=0,
                                      pretrained_cfg_overlay={"file": str(weights)})
        except (RuntimeError, KeyError) as error:
            raise MetricError(f"could not load {weights} into timm model {model_name!r}: {error}") from error
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.model = model.to(self.device).eval().requires_grad_(False)
        config = timm.data.resolve_model_data_config(model)
        self.size = tuple(config["input_size"][1:])
        self.interpolation = "bicubic" if config.get("interpolation") == "bicubic" else "bilinear"
        self.mean = torch.tensor(config["mean"], device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(config["std"], device=self.device).view(1, 3, 1, 1)
        self.resize = (f"{self.interpolation}+antialias to {self.size[0]}x{self.size[1]}, "
                       f"then timm mean/std normalisation")

    def features_batch(self, images: Tensor) -> Tensor:
        images = images.to(self.device).float()
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        unit = (images + 1) / 2
        if tuple(unit.shape[-2:]) != self.size:
            unit = F.interpolate(unit, size=self.size, mode=self.interpolation, align_corners=False, antialias=True)
        return self.model((unit - self.mean) / self.std)


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
