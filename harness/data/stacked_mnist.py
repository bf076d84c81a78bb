"""``stacked-mnist``: three MNIST digits as the R, G, B channels, 1,000 modes.

The mode-collapse benchmark of Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN):
each sample takes three digits drawn uniformly at random; its label is 100·a + 10·b + c for
the digits a (red), b (green), c (blue). ``DataRequest.size`` samples (default 50,000) are
materialised once from a generator seeded by the run's seed, so a seed always gives the same
dataset; the training order then comes from ``ImageTensorSource`` like any image set.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .base import DataError
from .mnist import load_digits
from .tensor_source import ImageTensorSource

if TYPE_CHECKING:  # pragma: no cover
    from .request import DataRequest

DEFAULT_SIZE = 50_000
NUM_MODES = 1000


def composition_seed(seed: int) -> int:
    """A seed for choosing the digit triples, distinct from the stream that orders batches."""
    digest = hashlib.sha256(f"stacked-mnist:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def stack_digits(images: Tensor, labels: Tensor, size: int, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """``size`` stacked samples from digits (N, 1, H, W): images (size, 3, H, W), labels, and the
    (size, 3) digit indices used (for provenance and tests)."""
    generator = torch.Generator().manual_seed(composition_seed(seed))
    index = torch.randint(len(images), (size, 3), generator=generator)
    stacked = images[:, 0][index]  # (size, 3, H, W): channel k is digit index[:, k]
    digit = labels[index]
    return stacked, digit[:, 0] * 100 + digit[:, 1] * 10 + digit[:, 2], index


def open_stacked_mnist(name: str, request: DataRequest) -> ImageTensorSource:
    size = DEFAULT_SIZE if request.size is None else request.size
    if size < 1:
        raise DataError(f"dataset {name!r}: size must be >= 1, got {size}; pass a positive number of samples")
    digits = load_digits(name, request)
    images, labels, _ = stack_digits(digits.data.images, digits.data.labels, size, request.seed)
    return ImageTensorSource(name, images, labels, request.seed, num_classes=NUM_MODES,
                             provenance={**digits.provenance, "source": "stacked MNIST (3 digits as RGB)",
                                         "size": size, "composition_seed": composition_seed(request.seed),
                                         "protocol": "VEEGAN/PacGAN: digits uniform at random, "
                                                     "label = 100*R + 10*G + B"})
