"""``stacked-mnist``: three MNIST digits as the R, G, B channels, 1,000 modes.

The mode-collapse benchmark of Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN):
each sample takes three digits drawn uniformly at random; its label is 100·a + 10·b + c for
the digits a (red), b (green), c (blue). ``DataRequest.size`` samples (default 50,000) are
materialised once from a generator seeded by the run's seed, so a seed always gives the same
dataset; the training order then comes from ``ImageTensorSource`` like any image set.
When only MNIST's test split exists, its held-out digits (``harness.data.holdout``) never enter a
training stack: training stacks are built from the training part, and ``reference`` stacks fresh
triples of held-out digits (seeded by the reference seed), so metrics score against unseen digits.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ..contract.gan_plugin import Batch
from ..contract.errors import DataError
from .holdout import hold_out
from .mnist import load_digits
from .tensor_source import ImageTensorSource, to_unit_range

if TYPE_CHECKING:  # pragma: no cover
    from .base import DataRequest

DEFAULT_SIZE = 50_000
NUM_MODES = 1000


def composition_seed(seed: int, stream: str = "") -> int:
    """A seed for choosing the digit triples, distinct from the stream that orders batches
    (``stream`` "reference": the stacks ``reference`` builds from held-out digits)."""
    digest = hashlib.sha256(f"stacked-mnist:{stream + ':' if stream else ''}{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def stack_digits(images: Tensor, labels: Tensor, size: int, seed: int,
                 stream: str = "") -> tuple[Tensor, Tensor, Tensor]:
    """``size`` stacked samples from digits (N, 1, H, W): images (size, 3, H, W), labels, and the
    (size, 3) digit indices used (for provenance and tests)."""
    generator = torch.Generator().manual_seed(composition_seed(seed, stream))
    index = torch.randint(len(images), (size, 3), generator=generator)
    stacked = images[:, 0][index]  # (size, 3, H, W): channel k is digit index[:, k]
    digit = labels[index]
    return stacked, digit[:, 0] * 100 + digit[:, 1] * 10 + digit[:, 2], index


class StackedMnistSource(ImageTensorSource):
    """Stacked digits; with ``held_out_digits``, ``reference`` stacks those instead of sampling the training set."""

    def __init__(self, *args, held_out_digits: tuple[Tensor, Tensor] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.held_out_digits = held_out_digits

    def reference(self, n: int, seed: int) -> Batch:
        if self.held_out_digits is None:
            return super().reference(n, seed)
        images, labels, _ = stack_digits(*self.held_out_digits, n, seed, stream="reference")
        return Batch(real=to_unit_range(images), labels=labels)


def open_stacked_mnist(name: str, request: DataRequest) -> StackedMnistSource:
    size = DEFAULT_SIZE if request.size is None else request.size
    if size < 1:
        raise DataError(f"dataset {name!r}: size must be >= 1, got {size}; pass a positive number of samples")
    digits = load_digits(name, request)
    parts = hold_out(name, digits.data.images, digits.data.labels, split=digits.split, requested=request.split,
                     holdout=request.holdout, where=digits.where, what="digits")
    images, labels, _ = stack_digits(parts.images, parts.labels, size, request.seed)
    provenance = {**digits.provenance, **parts.provenance}
    if parts.held_out is not None:
        provenance["reference"] = f"{digits.split} (stacks of held-out {len(parts.held_out[0])} digits)"
    return StackedMnistSource(name, images, labels, request.seed, num_classes=NUM_MODES,
                              held_out_digits=parts.held_out,  # type: ignore[arg-type]  # MNIST has labels
                              provenance={**provenance, "source": "stacked MNIST (3 digits as RGB)",
                                          "size": size, "composition_seed": composition_seed(request.seed),
                                          "protocol": "VEEGAN/PacGAN: digits uniform at random, "
                                                      "label = 100*R + 10*G + B"})
