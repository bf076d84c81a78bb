"""Choosing a dataset split when the user asked for ``auto``, and saying so when it is the test split.

Training on the test split is sometimes all a machine has (CI ships only MNIST/CIFAR test
data), but it must never happen silently: ``auto`` falls back to ``test``, the opener then holds
part of it out for evaluation (``harness.data.holdout``) and warns with a :class:`DataWarning`
that says how many images train and how many score. The chosen split and the hold-out are
recorded in the source's ``describe()``; ``harness.data.catalog`` copies every DataWarning an
opener raises into the source's ``data_warnings`` (for summary.json and report.md).
"""

from __future__ import annotations

from collections.abc import Collection

from ..contract.errors import DataError

SPLITS = ("train", "test")
FIX = ("Fine for smoke tests and relative comparisons, not for published numbers: put the training files there "
       "or pass --download.")


class DataWarning(UserWarning):
    """Data was found, but not what a benchmark would normally use (e.g. the test split)."""


def choose_split(dataset: str, requested: str, available: Collection[str], *, download: bool) -> str | None:
    """The split to load; ``None`` when ``auto`` finds nothing (the caller explains what is missing).

    ``auto`` picks ``train`` when present (or downloadable), else ``test``: a fallback (see
    :func:`is_fallback`) that the opener must announce with :func:`single_split_message`.
    """
    if requested != "auto":
        if requested not in SPLITS:
            raise DataError(f"dataset {dataset!r} has splits {', '.join(SPLITS)} (or auto), not {requested!r}; "
                            "pass one of those")
        return requested
    if "train" in available or download:
        return "train"
    if "test" in available:
        return "test"
    return None


def is_fallback(requested: str, split: str) -> bool:
    """True when ``auto`` had to settle for the test split because the training split is missing."""
    return requested == "auto" and split == "test"


def single_split_message(dataset: str, where: str, *, n_train: int, n_held_out: int, what: str = "images") -> str:
    """The DataWarning text for a run that trains on the test split (``n_held_out`` 0: nothing held out)."""
    head = f"dataset {dataset!r}: the training split was not found in {where}, so the TEST split is used: "
    if n_held_out:
        return (head + f"models train on {n_train:,} of its {what} and every metric scores against the other "
                f"{n_held_out:,}, held out (stratified by class; train.holdout sets how many). " + FIX)
    return (head + f"models train on all {n_train:,} of its {what} and metrics are scored on the SAME images the "
            "model trained on (train.holdout=0), which flatters every score. " + FIX)
