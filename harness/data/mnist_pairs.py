"""``mnist-thickness``: an offline unpaired translation task built from MNIST (thin ↔ thick strokes).

Domain A: MNIST digits as they are. Domain B: *other* MNIST digits with their strokes thickened by a
morphological dilation with a 3×3 square (a stride-1 3×3 max-pool) at the native 28×28, before any
resize. The translation changes the strokes' appearance and keeps the digit's identity and place,
so a digit classifier can check that a translator kept the content (``metrics.label_preservation``).

Unpaired for real: the split's images are divided once, by a fixed permutation (seed
``SPLIT_SEED``, independent of the run's seed), into two disjoint halves; A is the first half, B the
dilated second half. No digit appears in both domains. Labels are kept for evaluation only.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from .mnist import CLASSES, NATIVE_RESOLUTION, load_digits
from .resize import check_resolution, resize_square
from .splits import FIX, DataWarning, is_fallback
from .tensor_source import ImageTensorSource
from .unpaired import B_SEED_OFFSET, UnpairedSource

if TYPE_CHECKING:  # pragma: no cover
    from .base import DataRequest

SPLIT_SEED = 20170330  # fixed: the two halves are the same for every run (arXiv 1703.10593's submission date)
DILATION = 3  # side of the square structuring element


def split_halves(n: int, seed: int = SPLIT_SEED) -> tuple[Tensor, Tensor]:
    """Disjoint index sets (first half, second half) of ``range(n)`` from a fixed permutation."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[: n // 2].sort().values, order[n // 2 :].sort().values


def thicken(images: Tensor, size: int = DILATION) -> Tensor:
    """Grey-level dilation of uint8 (N, 1, H, W) digits with a size×size square: each pixel becomes
    the maximum of its neighbourhood, so white strokes on black grow by (size − 1)/2 px on each side."""
    pad = size // 2
    return F.max_pool2d(images.float(), size, stride=1, padding=pad).to(torch.uint8)


def open_mnist_thickness(name: str, request: DataRequest) -> UnpairedSource:
    size = check_resolution(name, request.resolution, NATIVE_RESOLUTION)
    digits = load_digits(name, dataclasses.replace(request, resolution=NATIVE_RESOLUTION))
    images, labels = digits.data.images, digits.data.labels
    if is_fallback(request.split, digits.split):  # no hold-out here: the halves are the two domains
        warnings.warn(f"dataset {name!r}: the training split was not found in {digits.where}, so the TEST split is "
                      f"used for training: domains A and B are its two halves ({len(images):,} digits), and the "
                      f"label metrics read those same digits. {FIX}", DataWarning, stacklevel=1)
    index_a, index_b = split_halves(len(images))
    a_images, b_images = images[index_a], thicken(images[index_b])
    a_images, b_images = resize_square(a_images, size), resize_square(b_images, size)
    provenance = {k: v for k, v in digits.provenance.items() if k not in ("resolution", "resize")}
    a = ImageTensorSource(f"{name}[A]", a_images, labels[index_a], request.seed, classes=CLASSES,
                          provenance={"domain": "MNIST digits (thin strokes)", "indices": f"half 1 of {len(images)}"})
    b = ImageTensorSource(f"{name}[B]", b_images, labels[index_b], request.seed + B_SEED_OFFSET, classes=CLASSES,
                          provenance={"domain": f"MNIST digits dilated by a {DILATION}×{DILATION} square (thick strokes)",
                                      "indices": f"half 2 of {len(images)}"})
    return UnpairedSource(name, a, b, request.seed, label_classifier="mnist-cnn", provenance={
        **provenance, "resolution": size,
        "resize": None if size == NATIVE_RESOLUTION else "after dilation: bilinear, antialias",
        "pairing": f"unpaired: disjoint halves of the {provenance.get('split')} split by a fixed permutation "
                   f"(seed {SPLIT_SEED}); A = {len(index_a)} digits as they are, B = {len(index_b)} other digits "
                   f"dilated with a {DILATION}×{DILATION} square at 28×28",
        "labels": "kept for evaluation (reference/reference_b), not in training batches"})
