"""Dataset names the CLI accepts, and how each is opened.

Every dataset is named here; image openers are imported only when used (start-up stays light).
A name of the form ``folder:PATH`` opens any image folder. Every opener takes the same
:class:`DataRequest` so the trainer need not know which kind it is opening.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from ..contract.model_spec import DataKind
from .base import DataRequest, DataSource
from ..contract.errors import DataError
from .mixtures import MIXTURES, MixtureSource
from .splits import DataWarning


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


def _lazy(module: str, function: str) -> Callable[[str, DataRequest], DataSource]:
    """An opener that imports its dataset module only when used (keeps start-up light)."""

    def open_lazily(name: str, request: DataRequest) -> DataSource:
        from importlib import import_module

        return getattr(import_module(f"{__package__}.{module}"), function)(name, request)

    return open_lazily


DATASETS.update({
    "mnist": DatasetEntry("mnist", DataKind.images, "MNIST digits, 1×28×28 (official IDX files)",
                          _lazy("mnist", "open_mnist")),
    "stacked-mnist": DatasetEntry("stacked-mnist", DataKind.images,
                                  "Stacked MNIST: 3 digits as RGB, 1,000 modes (VEEGAN/PacGAN)",
                                  _lazy("stacked_mnist", "open_stacked_mnist")),
    "cifar10": DatasetEntry("cifar10", DataKind.images,
                            "CIFAR-10, 3×32×32, 10 classes (official batches or class folders)",
                            _lazy("cifar10", "open_cifar10")),
    "mnist-thickness": DatasetEntry("mnist-thickness", DataKind.unpaired_images,
                                    "MNIST thin ↔ thick strokes (3×3 dilation), unpaired: disjoint halves, 1×28×28",
                                    _lazy("mnist_pairs", "open_mnist_thickness")),
    # no files needed: the smoke suite, `ganzoo check` and CI without downloads (not for scores)
    "synthetic": DatasetEntry("synthetic", DataKind.images, "synthetic class patterns + noise, 1×28×28, 10 classes "
                              "(generated; for checks, not scores)", _lazy("synthetic", "open_synthetic")),
    "synthetic-rgb": DatasetEntry("synthetic-rgb", DataKind.images, "synthetic class patterns + noise, 3×32×32, "
                                  "10 classes (generated)", _lazy("synthetic", "open_synthetic")),
    "synthetic-unpaired": DatasetEntry("synthetic-unpaired", DataKind.unpaired_images,
                                       "synthetic patterns ↔ their negatives, unpaired, 1×28×28 (generated)",
                                       _lazy("synthetic", "open_synthetic_unpaired")),
})

#: a generated dataset of each kind: what checks and the smoke suite train on when no files are needed
SYNTHETIC = {DataKind.points2d: "ring", DataKind.images: "synthetic", DataKind.unpaired_images: "synthetic-unpaired"}
PREFIXED.update({
    "folder": DatasetEntry("folder", DataKind.images,
                           "folder:PATH — any image folder (class subfolders → labels), default 64×64",
                           _lazy("folder", "open_folder")),
    "unpaired": DatasetEntry("unpaired", DataKind.unpaired_images,
                             "unpaired:DIR_A,DIR_B — two image folders as domains A and B, default 64×64",
                             _lazy("unpaired", "open_unpaired")),
})


def register_dataset(entry: DatasetEntry, *, prefixed: bool = False) -> None:
    (PREFIXED if prefixed else DATASETS)[entry.name] = entry


def dataset_kind(name: str) -> DataKind:
    return _entry(name).kind


def _entry(name: str) -> DatasetEntry:
    if name in DATASETS:
        return DATASETS[name]
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
    """The opened source; every DataWarning raised on the way is shown as usual *and* kept, as text,
    in ``source.data_warnings`` (a run writes those into summary.json and report.md)."""
    entry = _entry(name)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)  # record every one, even one shown before
            source = entry.open(name, request)
    finally:  # then show (or filter, or raise) each under the caller's own filters, as if never caught
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    texts = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    source.data_warnings = list(dict.fromkeys([*getattr(source, "data_warnings", []), *texts]))
    return source
