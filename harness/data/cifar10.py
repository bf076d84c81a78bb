"""``cifar10``: the official python batches, or any copy in class-folder layout.

Looked for under the data folder, first match per split wins:
1. ``cifar10/cifar-10-batches-py/`` (the extracted official archive; each batch md5-checked),
2. ``cifar10/cifar-10-python.tar.gz`` (read in place, md5-checked; ``--download`` fetches it),
3. ``cifar10/<split>/<class>/*`` or ``cifar10-jpeg/<split>/<class>/*`` (e.g. a JPEG re-encoding;
   classes sorted by name, which for CIFAR-10 is also the official label order).
The batches are pickles; they are read with an unpickler that only builds numpy arrays, so a
tampered file cannot run code. When only the test split exists, ``request.holdout`` images of it
are held out for evaluation, stratified by class (``harness.data.holdout``).
"""

from __future__ import annotations

import importlib
import io
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..contract.errors import DataError
from .decoded_cache import Decoded, fingerprint, load_or_build
from .folder import EXTENSIONS, decode_listing, scan
from .holdout import hold_out
from .storage import DataRoot, data_root, download, md5
from .resize import check_resolution, resize_square
from .splits import choose_split
from .tensor_source import ImageTensorSource

if TYPE_CHECKING:  # pragma: no cover
    from .base import DataRequest

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCH_DIR = "cifar-10-batches-py"
BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
BATCH_MD5 = {  # of the extracted files, as published with torchvision
    "data_batch_1": "c99cafc152244af753f735de768cd75f", "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751", "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb", "test_batch": "40351d587109b95175f43aff81a1287e",
}
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
NATIVE_RESOLUTION = 32
FOLDER_NAMES = ("cifar10", "cifar10-jpeg")


@dataclass(frozen=True)
class Found:
    """One split's files: ``kind`` is "batches", "archive" or "folders"."""

    kind: str
    path: Path


def locate(root: Path) -> dict[str, Found]:
    """Every split present under ``root``, in the order of preference above."""
    found: dict[str, Found] = {}
    for split, names in BATCHES.items():
        if all((root / "cifar10" / BATCH_DIR / name).is_file() for name in names):
            found[split] = Found("batches", root / "cifar10" / BATCH_DIR)
        elif (root / "cifar10" / ARCHIVE).is_file():
            found[split] = Found("archive", root / "cifar10" / ARCHIVE)
        else:
            for folder in FOLDER_NAMES:
                if (root / folder / split).is_dir():
                    found[split] = Found("folders", root / folder / split)
                    break
    return found


def _looked_for(root: DataRoot, split: str) -> str:
    base = root.path
    return (f"{base / 'cifar10' / BATCH_DIR}/{{{','.join(BATCHES[split])}}}, {base / 'cifar10' / ARCHIVE}, "
            f"{base / 'cifar10' / split}/<class>/<image> and {base / 'cifar10-jpeg' / split}/<class>/<image>")


class _NumpyOnly(pickle.Unpickler):
    """Unpickles dicts, lists and numpy arrays; refuses every other global (no code execution)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype"),
               ("_codecs", "encode")}  # how protocol-2 pickles written by Python 3 store bytes

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        if module.startswith("numpy.core.") and int(np.__version__.split(".")[0]) >= 2:
            module = "numpy._core." + module.removeprefix("numpy.core.")
        return getattr(importlib.import_module(module), name)


def read_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One python batch -> images uint8 (N, 3, 32, 32), labels int64 (N,)."""
    try:
        entry = _NumpyOnly(io.BytesIO(data), encoding="latin1").load()
        entry = {(k.decode() if isinstance(k, bytes) else k): v for k, v in entry.items()}
        images = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(entry["labels"], dtype=np.int64)
    except Exception as error:  # noqa: BLE001 - any malformed batch is a data error
        raise DataError(f"dataset 'cifar10': {where} is not a CIFAR-10 python batch ({type(error).__name__}: "
                        f"{error}); delete it and extract/download the official archive again") from error
    if len(images) != len(labels) or labels.min(initial=0) < 0 or labels.max(initial=0) >= len(CLASSES):
        raise DataError(f"dataset 'cifar10': {where} has {len(images)} images but {len(labels)} labels or labels "
                        "outside 0..9; delete it and extract/download the official archive again")
    return images, labels


def _verified(path: Path, expected: str, what: str) -> None:
    actual = md5(path)
    if actual != expected:
        raise DataError(f"dataset 'cifar10': {path} has md5 {actual}, expected {expected} for the official "
                        f"{what}: the file is corrupt or not the official one. Delete it and extract/download "
                        f"it again (--download fetches {URL}).")


def _read_batches(found: Found, split: str) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    if found.kind == "batches":
        for name in BATCHES[split]:
            path = found.path / name
            _verified(path, BATCH_MD5[name], name)
            parts.append(read_batch(path.read_bytes(), str(path)))
    else:
        _verified(found.path, ARCHIVE_MD5, ARCHIVE)
        with tarfile.open(found.path, "r:gz") as archive:
            for name in BATCHES[split]:
                member = f"{BATCH_DIR}/{name}"
                try:
                    data = archive.extractfile(member).read()  # type: ignore[union-attr]
                except (KeyError, AttributeError) as error:
                    raise DataError(f"dataset 'cifar10': {found.path} lacks {member}; delete it and download "
                                    "again (--download)") from error
                parts.append(read_batch(data, f"{found.path}:{member}"))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def open_cifar10(name: str, request: DataRequest) -> ImageTensorSource:
    root = data_root(request.data_dir)
    found = locate(root.path)
    split = choose_split(name, request.split, found, download=request.download)
    if split is None or split not in found:
        split = split or "train"
        if not request.download:
            raise DataError(f"dataset {name!r}: the {split} split was not found; looked for {_looked_for(root, split)}. "
                            f"Put the official archive ({URL}) or its extracted {BATCH_DIR}/ in "
                            f"{root.path / 'cifar10'}, a class-folder copy in {root.path / 'cifar10-jpeg' / split}, "
                            f"or pass --download on a machine with network access. Looked in the {root.hint()}.")
        download([URL], root.path / "cifar10" / ARCHIVE, ARCHIVE_MD5, dataset=name)
        found = locate(root.path)
    where = found[split]
    size = check_resolution(name, request.resolution, NATIVE_RESOLUTION)
    provenance: dict[str, Any] = {"split": split, "resolution": size, "native_resolution": NATIVE_RESOLUTION,
                                  "data_dir": str(root.path), "data_dir_from": root.origin}
    if where.kind == "folders":
        listing = scan(where.path)
        if not listing.files or listing.classes is None:
            raise DataError(f"dataset {name!r}: {where.path} has no class subfolders with images (looked for "
                            f"{where.path}/<class>/<image> with extensions {', '.join(EXTENSIONS)}). Put one folder "
                            "per class there, or use the official archive.")
        cached = decode_listing(listing, size, dataset=name, prefix="cifar10-folders")
        provenance |= {"source": "class folders", "files": f"{len(listing.files)} images under {where.path}",
                       "transform": "RGB, shorter side bilinear-resized, centre crop"}
    else:
        files = sorted(where.path / n for n in BATCHES[split]) if where.kind == "batches" else [where.path]

        def build() -> Decoded:
            images, labels = _read_batches(where, split)
            return Decoded(resize_square(torch.from_numpy(images), size), torch.from_numpy(labels), CLASSES,
                           {"split": split})

        cached = load_or_build("cifar10", {"kind": where.kind, "split": split, "resolution": size,
                                           "files": fingerprint(files)}, build)
        provenance |= {"source": "official python batches" + (" (archive)" if where.kind == "archive" else ""),
                       "files": [str(f) for f in files],
                       "resize": None if size == NATIVE_RESOLUTION else "bilinear, antialias"}
    provenance |= {"cache_key": cached.key, "cache_file": str(cached.path), "cache_hit": cached.hit}
    data = cached.data
    parts = hold_out(name, data.images, data.labels, split=split, requested=request.split, holdout=request.holdout,
                     where=str(root.path))
    return ImageTensorSource(name, parts.images, parts.labels, request.seed, classes=data.classes or CLASSES,
                             provenance={**provenance, **parts.provenance}, held_out=parts.held_out)
