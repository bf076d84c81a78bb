"""Dataset names the CLI accepts, and how each is opened.

Image datasets are added by ``harness.data.images``; a name of the form ``folder:PATH`` opens
any image folder. Every opener takes the same keyword arguments so the trainer need not
know which kind it is opening.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..spec import DataKind
from .base import DataError, DataSource
from .mixtures import MIXTURES, MixtureSource


@dataclass(frozen=True)
class DataRequest:
    """Everything an opener may need; image openers use the fields points ignore."""

    seed: int
    data_dir: Path | None = None
    resolution: int | None = None
    download: bool = False
    split: str = "auto"  # "train", "test", or "auto": train if present, else test with a warning
    size: int | None = None  # samples to synthesise (stacked-mnist); None = the dataset's default


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    kind: DataKind
    description: str
    open: Callable[[str, DataRequest], DataSource]


DATASETS: dict[str, DatasetEntry] = {
    name: DatasetEntry(name, DataKind.points2d, f"2-D Gaussian mixture '{name}' (generated)",
                       lambda n, req: MixtureSource(n, req.seed))
    for name in MIXTURES
}

PREFIXED: dict[str, DatasetEntry] = {}  # e.g. "folder" for folder:PATH


def register_dataset(entry: DatasetEntry, *, prefixed: bool = False) -> None:
    (PREFIXED if prefixed else DATASETS)[entry.name] = entry


def dataset_kind(name: str) -> DataKind:
    return _entry(name).kind


def _entry(name: str) -> DatasetEntry:
    if name in DATASETS:
        return DATASETS[name]
    _load_image_datasets()
    prefix = name.split(":", 1)[0] if ":" in name else None
    if prefix is not None and prefix in PREFIXED:
        return PREFIXED[prefix]
    if name in DATASETS:
        return DATASETS[name]
    known = sorted(DATASETS) + [f"{p}:PATH" for p in sorted(PREFIXED)]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise DataError(f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(known)}.")


def open_dataset(name: str, request: DataRequest) -> DataSource:
    return _entry(name).open(name, request)


def _load_image_datasets() -> None:
    """Image datasets register themselves on import; imported lazily to keep start-up light."""
    from . import images  # noqa: F401
