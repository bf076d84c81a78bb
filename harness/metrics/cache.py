"""Where the harness keeps things it computes once and reuses (classifier weights, feature stats)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$GANZOO_CACHE`` if set, else ``~/.cache/ganzoo``; CI can persist this one folder between runs."""
    configured = os.environ.get("GANZOO_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "ganzoo"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes: the identity we record for weights and data files."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
