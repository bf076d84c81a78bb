"""The official MNIST IDX files: find them, verify them, read them (no torchvision needed).

Files live in ``<data_dir>/mnist/`` gzipped or not. With ``download=True`` missing files are
fetched from a mirror and their md5 checked before use.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..contract.errors import DataError
from .storage import download as fetch_with_checksum, md5

MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")

FILES = {  # split -> (images, labels), each (file name, md5 of the .gz)
    "train": (("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
              ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432")),
    "test": (("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
             ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c")),
}


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (gzipped or not) into a numpy array of its stored dtype."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
        zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
        if zero != 0 or dtype_code != 0x08:
            raise ValueError("not an unsigned-byte IDX file")
        shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
        array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
        return array.reshape(shape)
    except (OSError, ValueError, struct.error, EOFError) as error:
        raise DataError(f"{path} is not a readable IDX file ({error}); delete it and fetch it again") from error


def _find(folder: Path, stem: str, checksum: str, download: bool) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.exists():
            actual = md5(candidate) if candidate.suffix == ".gz" else checksum
            if actual != checksum:
                raise DataError(f"{candidate} has md5 {actual}, expected {checksum}: the file is corrupt "
                                "or not the official one; delete it and download again (--download)")
            return candidate
    if not download:
        raise DataError(f"MNIST file {stem}(.gz) not found in {folder}. Put the official IDX files there "
                        f"(from {MIRRORS[0]}) or pass --download on a machine with network access.")
    return fetch_with_checksum([mirror + f"{stem}.gz" for mirror in MIRRORS], folder / f"{stem}.gz", checksum, dataset="mnist")


def available_splits(data_dir: Path) -> list[str]:
    folder = data_dir / "mnist"
    return [split for split, ((images, _), _) in FILES.items()
            if (folder / f"{images}.gz").exists() or (folder / images).exists()]


def load_mnist(data_dir: Path, split: str, download: bool = False) -> tuple[Tensor, Tensor]:
    """Images as uint8 (N, 28, 28) and labels as int64 (N,) of one split."""
    if split not in FILES:
        raise DataError(f"MNIST has splits {sorted(FILES)}, not {split!r}")
    folder = data_dir / "mnist"
    (images_stem, images_md5), (labels_stem, labels_md5) = FILES[split]
    images = read_idx(_find(folder, images_stem, images_md5, download))
    labels = read_idx(_find(folder, labels_stem, labels_md5, download))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"MNIST {split} files in {folder} have inconsistent shapes {images.shape} / {labels.shape}")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))
