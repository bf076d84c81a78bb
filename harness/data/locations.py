"""Where datasets and decoded caches live, and how to tell the user when something is missing.

Data: ``--data-dir`` (``DataRequest.data_dir``), else ``$GANZOO_DATA``, else ``<cache root>/data``.
Cache root: ``$GANZOO_CACHE``, else ``$XDG_CACHE_HOME/ganzoo``, else ``~/.cache/ganzoo``.
Every "not found" message quotes the folder *and* which of these rules chose it, so a user
whose files are elsewhere knows which knob to turn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataRoot:
    """A data folder and the rule that chose it (quoted in error messages)."""

    path: Path
    origin: str  # "--data-dir", "GANZOO_DATA" or "the default per-user folder"

    def hint(self) -> str:
        """Where we looked and the ways to point ganzoo elsewhere."""
        return (f"data folder {self.path} (chosen by {self.origin}; change it with --data-dir PATH "
                "or the GANZOO_DATA environment variable)")


def cache_root() -> Path:
    """The per-user cache folder; its ``data/`` and ``decoded/`` subfolders hold datasets and tensors."""
    if os.environ.get("GANZOO_CACHE"):
        return Path(os.environ["GANZOO_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ganzoo"


def decoded_cache_dir() -> Path:
    """Where decoded datasets are stored as uint8 tensors (see ``harness.data.decoded_cache``)."""
    return cache_root() / "decoded"


def data_root(data_dir: Path | str | None) -> DataRoot:
    """The folder datasets are read from (and downloaded to)."""
    if data_dir is not None:
        return DataRoot(Path(data_dir).expanduser().resolve(), "--data-dir")
    if os.environ.get("GANZOO_DATA"):
        return DataRoot(Path(os.environ["GANZOO_DATA"]).expanduser().resolve(), "GANZOO_DATA")
    return DataRoot((cache_root() / "data").resolve(), "the default per-user folder")
