"""Choosing a dataset split when the user asked for ``auto``.

Training on the test split is sometimes all a machine has (CI ships only MNIST/CIFAR test
data), but it must never happen silently: ``auto`` falls back to ``test`` with a warning and
the chosen split is recorded in the source's ``describe()``.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection

from .base import DataError

SPLITS = ("train", "test")


class DataWarning(UserWarning):
    """Data was found, but not what a benchmark would normally use (e.g. the test split)."""


def choose_split(dataset: str, requested: str, available: Collection[str], *, download: bool,
                 where: str) -> str | None:
    """The split to load; ``None`` when ``auto`` finds nothing (the caller explains what is missing)."""
    if requested != "auto":
        if requested not in SPLITS:
            raise DataError(f"dataset {dataset!r} has splits {', '.join(SPLITS)} (or auto), not {requested!r}; "
                            "pass one of those")
        return requested
    if "train" in available or download:
        return "train"
    if "test" in available:
        warnings.warn(f"dataset {dataset!r}: the training split was not found in {where}, so the TEST split is "
                      "used for training. Fine for smoke tests and relative comparisons, not for published "
                      "numbers: put the training files there or pass --download.", DataWarning, stacklevel=3)
        return "test"
    return None
