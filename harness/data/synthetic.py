"""Synthetic image datasets that need nothing on disk: the smoke suite, `ganzoo check` and a CI job
without downloads train real image plugins on them.

Each class is a fixed smooth random pattern (a 4×4 grid of random intensities per channel,
bilinearly upsampled); an image is its class's pattern plus pixel noise, clipped to [0, 255]. So
the data has structure a GAN can learn (and class labels for conditional models), is identical on
every machine (the patterns and the images come from fixed seeds, independent of the run's seed,
like a dataset's files; the run's seed only shuffles the order), and costs milliseconds to make.
Metrics on it measure nothing about the real world: it is for plumbing, never for scores.

``synthetic``: 1×28×28, 10 classes (MNIST-shaped). ``synthetic-rgb``: 3×32×32, 10 classes
(CIFAR-shaped). ``synthetic-unpaired``: two domains of the same classes, B the photographic
negative of A (an invertible mapping a translator can learn), 1×28×28. ``train.resolution``
changes the side. Evaluation draws from a separate held-out set made with another seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from .resize import check_resolution
from .tensor_source import ImageTensorSource
from .unpaired import B_SEED_OFFSET, UnpairedSource

if TYPE_CHECKING:  # pragma: no cover
    from .base import DataRequest

#: name → (channels, side, classes)
SHAPES = {"synthetic": (1, 28, 10), "synthetic-rgb": (3, 32, 10), "synthetic-unpaired": (1, 28, 10)}
TRAIN_SIZE, HELD_OUT_SIZE = 2000, 500
PATTERN_SEED, TRAIN_SEED, HELD_OUT_SEED = 20_240_601, 1, 2
NOISE = 0.12  # pixel noise, as a fraction of the intensity range
CLASSES = [f"pattern {k}" for k in range(10)]


def class_images(n: int, channels: int, side: int, classes: int, seed: int) -> tuple[Tensor, Tensor]:
    """``n`` uint8 images (n, channels, side, side) and their int64 labels, balanced over the classes."""
    patterns = torch.rand(classes, channels, 4, 4, generator=torch.Generator().manual_seed(PATTERN_SEED))
    patterns = F.interpolate(patterns, size=(side, side), mode="bilinear", align_corners=False)
    generator = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % classes)[torch.randperm(n, generator=generator)]
    noise = torch.randn(n, channels, side, side, generator=generator) * NOISE
    images = (patterns[labels] + noise).clamp(0, 1).mul(255).round().to(torch.uint8)
    return images, labels


def _source(name: str, request: DataRequest, seed: int, *, negative: bool = False) -> ImageTensorSource:
    channels, native, classes = SHAPES[name]
    side = check_resolution(name, request.resolution, native)
    images, labels = class_images(TRAIN_SIZE, channels, side, classes, TRAIN_SEED)
    held_images, held_labels = class_images(HELD_OUT_SIZE, channels, side, classes, HELD_OUT_SEED)
    if negative:
        images, held_images = 255 - images, 255 - held_images
    return ImageTensorSource(name, images, labels, seed, classes=CLASSES[:classes], held_out=(held_images, held_labels),
                             provenance={"source": "synthetic: class patterns + noise (no files; not for scores)",
                                         "split": "generated", "reference": f"generated held-out {HELD_OUT_SIZE}",
                                         "resolution": side})


def open_synthetic(name: str, request: DataRequest) -> ImageTensorSource:
    return _source(name, request, request.seed)


def open_synthetic_unpaired(name: str, request: DataRequest) -> UnpairedSource:
    a = _source(name, request, request.seed)
    b = _source(name, request, request.seed + B_SEED_OFFSET, negative=True)
    a.info = a.info.model_copy(update={"name": f"{name}[A]"})
    b.info = b.info.model_copy(update={"name": f"{name}[B]"})
    return UnpairedSource(name, a, b, request.seed, provenance={
        "source": "synthetic: class patterns + noise; domain B is the negative of domain A's classes",
        "pairing": "unpaired: A and B are drawn independently"})
