"""Held-out evaluation when a dataset has only one split.

When ``auto`` falls back to the test split (the training files are missing), models and the
metrics classifier would otherwise train on the very images every metric scores against. So the
split's images are divided once into a *training part* and a *held-out part*:

- stratified by class: each class gives its share of the held-out images, within one image of
  ``n_held_out * class_size / N`` (largest-remainder rounding, ties to the lower class index);
- deterministic and independent of the run's seed: within each class the held-out images are the
  first of a fixed permutation (``HOLDOUT_SEED``), so every run, the metrics classifier and the
  reference features all see the same parts;
- disjoint and covering: every image is in exactly one part; both index sets are sorted, so the
  training part keeps the file order.

``harness.metrics.classifier`` imports this module (metrics may import data, never the reverse).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..contract.errors import DataError
from .splits import DataWarning, is_fallback, single_split_message

#: held-out images by default (MNIST's test split: 8,000 train / 2,000 held out)
DEFAULT_HOLDOUT = 2000
#: the fixed permutation's seed: the same parts for every run, whatever its seed
HOLDOUT_SEED = 0


@dataclass(frozen=True)
class Holdout:
    """Sorted, disjoint index sets that together cover ``range(len(train) + len(held_out))``."""

    train: Tensor
    held_out: Tensor
    stratified: bool
    seed: int = HOLDOUT_SEED

    def describe(self) -> dict[str, Any]:
        return {"train": len(self.train), "held_out": len(self.held_out), "stratified": self.stratified,
                "seed": self.seed}


def class_shares(counts: list[int], n_held_out: int) -> list[int]:
    """How many of ``n_held_out`` each class gives: proportional to ``counts``, each within 1 of its quota."""
    total = sum(counts)
    quotas = [n_held_out * c / total for c in counts]
    shares = [int(q) for q in quotas]
    by_remainder = sorted(range(len(counts)), key=lambda c: (-(quotas[c] - shares[c]), c))
    for c in by_remainder[: n_held_out - sum(shares)]:
        shares[c] += 1
    return shares


def stratified_holdout(labels: Tensor | None, n_held_out: int, *, size: int | None = None,
                       seed: int = HOLDOUT_SEED, what: str = "the data") -> Holdout:
    """Split ``range(N)`` into a training part and ``n_held_out`` held-out indices, stratified by ``labels``.

    ``labels`` None (unlabelled images) holds out a plain fixed random subset of ``size`` items.
    """
    n = len(labels) if labels is not None else size
    if n is None:
        raise ValueError("stratified_holdout needs labels or a size")
    if not 0 < n_held_out < n:
        raise DataError(f"{what}: cannot hold out {n_held_out} of its {n} images for evaluation (at least one "
                        f"must stay for training); set train.holdout between 1 and {n - 1}, or 0 to train and "
                        "score on the same images")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    if labels is None:
        held = order[:n_held_out]
    else:
        labels = labels.to(torch.int64)
        ordered_labels = labels[order]
        classes = torch.unique(labels).tolist()
        members = [order[ordered_labels == c] for c in classes]  # each class in the fixed permutation's order
        shares = class_shares([len(m) for m in members], n_held_out)
        held = torch.cat([m[:k] for m, k in zip(members, shares)])
    mask = torch.zeros(n, dtype=torch.bool)
    mask[held] = True
    return Holdout(torch.nonzero(~mask).flatten(), torch.nonzero(mask).flatten(), labels is not None, seed)


@dataclass(frozen=True)
class Parts:
    """What an opener trains on, what its ``reference`` draws from (None: the training images), and
    the provenance that says so (``holdout``, ``reference``)."""

    images: Tensor
    labels: Tensor | None
    held_out: tuple[Tensor, Tensor | None] | None
    provenance: dict[str, Any]


def hold_out(dataset: str, images: Tensor, labels: Tensor | None, *, split: str, requested: str, holdout: int,
             where: str, what: str = "images") -> Parts:
    """Hold ``holdout`` images out when ``auto`` fell back to the only split there is, and warn saying so.

    Any other split (``train``, or a split the user asked for by name) is used whole, as before.
    """
    if not is_fallback(requested, split):
        return Parts(images, labels, None, {"reference": split})
    if holdout == 0:
        warnings.warn(single_split_message(dataset, where, n_train=len(images), n_held_out=0, what=what),
                      DataWarning, stacklevel=2)
        return Parts(images, labels, None, {
            "holdout": {"train": len(images), "held_out": 0, "stratified": False, "seed": None},
            "reference": f"{split} (the training images: train.holdout=0)"})
    parts = stratified_holdout(labels, holdout, size=len(images), what=f"dataset {dataset!r} ({split} split)")
    warnings.warn(single_split_message(dataset, where, n_train=len(parts.train), n_held_out=holdout, what=what),
                  DataWarning, stacklevel=2)
    held_labels = None if labels is None else labels[parts.held_out]
    return Parts(images[parts.train], None if labels is None else labels[parts.train],
                 (images[parts.held_out], held_labels),
                 {"holdout": parts.describe(), "reference": f"{split} (held-out {holdout})"})
