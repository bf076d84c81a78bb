"""Decoded datasets stored as uint8 tensors, so only the first run pays for decoding and resizing.

A cache entry is one safetensors file under ``<cache root>/decoded/`` named by a hash of
everything its content depends on: the source files' absolute paths, sizes and mtimes, the
split, the resolution and ``TRANSFORM_VERSION``. Change any of them and a new entry is built.
safetensors holds only tensors and strings, so a cache file can never run code. Files are
written to a temporary name and moved into place (``os.replace``), so a crash mid-write leaves
no half file under the real name; a file that fails to load anyway is rebuilt with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .storage import decoded_cache_dir

#: Bump when decoding or resizing changes its output, so stale entries are not reused.
TRANSFORM_VERSION = 1


class CacheWarning(UserWarning):
    """The decoded cache could not be read or written; the data is decoded again instead."""


@dataclass
class Decoded:
    """A decoded image dataset: uint8 images (N, C, H, W), optional int64 labels, provenance."""

    images: Tensor
    labels: Tensor | None = None
    classes: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-able: files, split, ...


@dataclass(frozen=True)
class Cached:
    """What ``load_or_build`` returns: the data plus where it came from."""

    data: Decoded
    key: str
    path: Path
    hit: bool


def fingerprint(files: Iterable[Path]) -> list[list[Any]]:
    """Cheap identity of source files: absolute path, size and mtime (no content hashing)."""
    rows = []
    for path in files:
        stat = os.stat(path)
        rows.append([os.path.abspath(path), stat.st_size, stat.st_mtime_ns])
    return rows


def cache_key(fields: dict[str, Any]) -> str:
    text = json.dumps({**fields, "transform_version": TRANSFORM_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def load_or_build(prefix: str, fields: dict[str, Any], build: Callable[[], Decoded]) -> Cached:
    """The cached tensors for ``fields`` if a valid entry exists, else ``build()`` stored under them."""
    key = cache_key(fields)
    path = decoded_cache_dir() / f"{prefix}-{key}.safetensors"
    if path.exists():
        try:
            return Cached(_read(path, key), key, path, hit=True)
        except Exception as error:  # noqa: BLE001 - any unreadable entry is rebuilt, never fatal
            warnings.warn(f"decoded-data cache {path} is unreadable ({type(error).__name__}: {error}); "
                          "decoding the dataset again and replacing it", CacheWarning, stacklevel=2)
            path.unlink(missing_ok=True)
    data = build()
    _write(path, key, data)
    return Cached(data, key, path, hit=False)


def _read(path: Path, key: str) -> Decoded:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        names = set(handle.keys())
        images = handle.get_tensor("images")
        labels = handle.get_tensor("labels") if "labels" in names else None
    if metadata.get("key") != key:
        raise ValueError(f"entry is for key {metadata.get('key')!r}, not {key!r}")
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"images are {images.dtype} {tuple(images.shape)}, expected uint8 (N, C, H, W)")
    if labels is not None and (labels.dtype != torch.int64 or labels.shape != images.shape[:1]):
        raise ValueError(f"labels are {labels.dtype} {tuple(labels.shape)}, expected int64 ({len(images)},)")
    return Decoded(images, labels, json.loads(metadata.get("classes", "null")), json.loads(metadata.get("meta", "{}")))


def _write(path: Path, key: str, data: Decoded) -> None:
    from safetensors.torch import save_file

    tensors = {"images": data.images.contiguous()}
    if data.labels is not None:
        tensors["labels"] = data.labels.to(torch.int64).contiguous()
    metadata = {"key": key, "classes": json.dumps(data.classes), "meta": json.dumps(data.meta, default=str)}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        os.close(fd)
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    except OSError as error:  # read-only or full disk: train anyway, just without the cache
        warnings.warn(f"could not write the decoded-data cache {path} ({error}); set GANZOO_CACHE to a "
                      "writable folder to avoid decoding again next time", CacheWarning, stacklevel=3)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
