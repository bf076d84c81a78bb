"""Where a run's inputs live outside its directory (the data folder, local extractor weights), as
recorded in config.json, so `--resume`, `ganzoo eval` and `ganzoo sample` find them again without
being told: a run trained with ``--data-dir ../shared/data`` resumes from any shell.

What the user says now wins: ``--data-dir`` (or ``$GANZOO_DATA``) and ``--extractor-weights``
override the recorded paths.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..data.locations import data_root


def recorded_locations(data_dir: Path | None, extractor_weights: Path | None) -> dict[str, Any]:
    """The config.json keys: the data folder when one was chosen (not the per-user default), and the weights."""
    root = data_root(data_dir)
    chosen = root.origin != "the default per-user folder"
    return {"data_dir": str(root.path) if chosen else None,
            "extractor_weights": str(Path(extractor_weights).expanduser().resolve()) if extractor_weights else None}


def _recorded(run_dir: Path, key: str) -> Path | None:
    try:
        value = json.loads((Path(run_dir) / "config.json").read_text()).get(key)
    except (OSError, ValueError):
        return None
    return Path(value) if value else None


def data_dir_for(run_dir: Path, given: Path | None) -> Path | None:
    """``--data-dir`` if given, else ``$GANZOO_DATA`` (None lets the data layer read it), else the recorded folder."""
    if given is not None or os.environ.get("GANZOO_DATA"):
        return given
    return _recorded(run_dir, "data_dir")


def extractor_weights_for(run_dir: Path, given: Path | None) -> Path | None:
    return given if given is not None else _recorded(run_dir, "extractor_weights")
