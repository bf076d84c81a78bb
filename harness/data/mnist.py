"""The ``mnist`` dataset: the official IDX files, one split, at the run's resolution.

Finding and verifying the files is ``mnist_files``' job; this module picks the split
(``auto``: train if present, else test with a warning), resizes once (native 28; e.g. 32 or
64 for DCGAN-style nets) and caches the result. ``stacked-mnist`` builds on ``load_digits``.
When only the test split exists, ``request.holdout`` digits of it are held out for evaluation
(``harness.data.holdout``): training batches never contain them, ``reference`` only them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..contract.errors import DataError
from .decoded_cache import Decoded, fingerprint, load_or_build
from .holdout import hold_out
from .storage import data_root
from .mnist_files import FILES, MIRRORS, _find, available_splits, load_mnist
from .resize import check_resolution, resize_square
from .splits import choose_split
from .tensor_source import ImageTensorSource

if TYPE_CHECKING:  # pragma: no cover
    from .base import DataRequest

NATIVE_RESOLUTION = 28
CLASSES = [str(digit) for digit in range(10)]


@dataclass(frozen=True)
class Digits:
    """MNIST digits as uint8 (N, 1, R, R) with int64 labels, and where they came from."""

    data: Decoded
    provenance: dict[str, Any]
    where: str = ""  # the folder the files are in (for messages)

    @property
    def split(self) -> str:
        return self.provenance["split"]


def _expected_files() -> str:
    return "; ".join(f"{split}: {images}(.gz) and {labels}(.gz)"
                     for split, ((images, _), (labels, _)) in FILES.items())


def load_digits(dataset: str, request: DataRequest) -> Digits:
    """The MNIST split the request asks for, resized and cached; DataError says what is missing."""
    root = data_root(request.data_dir)
    folder = root.path / "mnist"
    split = choose_split(dataset, request.split, available_splits(root.path), download=request.download)
    if split is None:
        raise DataError(f"dataset {dataset!r}: no MNIST files in {folder} (looked for {_expected_files()}). "
                        f"Put the official IDX files there (from {MIRRORS[0]}), pass --download on a machine with "
                        f"network access, or point --data-dir/GANZOO_DATA at a folder that has mnist/. Looked in the "
                        f"{root.hint()}.")
    size = check_resolution(dataset, request.resolution, NATIVE_RESOLUTION)
    try:  # verifies md5 of .gz files and downloads what is missing when asked to
        files = [_find(folder, stem, checksum, request.download) for stem, checksum in FILES[split]]
    except DataError as error:
        raise DataError(f"dataset {dataset!r} ({split} split): {error} Looked in the {root.hint()}.") from error

    def build() -> Decoded:
        images, labels = load_mnist(root.path, split)
        return Decoded(resize_square(images.unsqueeze(1), size), labels, CLASSES, {"split": split})

    cached = load_or_build("mnist", {"kind": "mnist", "split": split, "resolution": size,
                                     "files": fingerprint(files)}, build)
    provenance = {"source": "MNIST IDX files", "files": [str(f) for f in files], "split": split,
                  "native_resolution": NATIVE_RESOLUTION, "resolution": size,
                  "resize": None if size == NATIVE_RESOLUTION else "bilinear, antialias",
                  "data_dir": str(root.path), "data_dir_from": root.origin,
                  "cache_key": cached.key, "cache_file": str(cached.path), "cache_hit": cached.hit}
    return Digits(cached.data, provenance, str(folder))


def open_mnist(name: str, request: DataRequest) -> ImageTensorSource:
    digits = load_digits(name, request)
    parts = hold_out(name, digits.data.images, digits.data.labels, split=digits.split, requested=request.split,
                     holdout=request.holdout, where=digits.where, what="digits")
    return ImageTensorSource(name, parts.images, parts.labels, request.seed, classes=CLASSES,
                             provenance={**digits.provenance, **parts.provenance}, held_out=parts.held_out)
