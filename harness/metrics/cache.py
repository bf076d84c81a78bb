"""Where the harness keeps things it computes once and reuses (classifier weights, feature stats)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def default_cache_dir() -> Path:
    """The one ganzoo cache root (``harness.data.locations.cache_root``); CI can persist it between runs."""
    from ..data.locations import cache_root

    return cache_root()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes: the identity we record for weights and data files."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
