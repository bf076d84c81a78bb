"""What `ganzoo list` shows, remembered between calls so the second `ganzoo list` answers without
importing the plugins (and with them torch, seconds on a busy machine).

The rows (the ``--json`` records) are cached under the ganzoo cache, keyed by everything that could
change them: the ``ganzoo.models`` entry points and their distributions' versions, every installed
distribution (an install or uninstall changes a ``*.dist-info`` folder), the files of each plugin's
module folder and of the harness's contract (which validates a spec), and the Python version. A
listing with a broken plugin or a conflict is never cached: the next call imports again, so a fix
shows at once. Anything unexpected while fingerprinting means "no cache", never a wrong listing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

GROUP = "ganzoo.models"  # contract.registry.GROUP, not imported: that module imports torch
CONTRACT = Path(__file__).resolve().parents[1] / "contract"


def _cache_file() -> Path:
    """``<cache root>/listing.json``; the root as ``data.storage.cache_root`` picks it (importing the
    data package would load torch)."""
    if os.environ.get("GANZOO_CACHE"):
        root = Path(os.environ["GANZOO_CACHE"]).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ganzoo"
    return root / "listing.json"


def _files(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.py"))


def fingerprint() -> str | None:
    """A hash of what the listing depends on, or None when it cannot be computed cheaply."""
    try:
        from importlib.metadata import entry_points

        entries = sorted((e.name, e.value, e.dist.name if e.dist else "", e.dist.version if e.dist else "")
                         for e in entry_points(group=GROUP))
        # '' (python -c) and the current folder (python -m) are the same place: count it once either way
        folders = dict.fromkeys(os.path.abspath(folder or os.curdir) for folder in sys.path)
        installed = sorted((folder, name, (Path(folder) / name).stat().st_mtime_ns)
                           for folder in folders if os.path.isdir(folder)
                           for name in os.listdir(folder) if name.endswith((".dist-info", ".egg-info", ".pth")))
        sources = []
        for _, value, _, _ in entries:
            found = importlib.util.find_spec(value.split(":", 1)[0])
            if found is None or not found.origin:
                return None
            sources.append((value, _files(Path(found.origin).parent)))
        document = [sys.version, entries, installed, sources, _files(CONTRACT)]
    except Exception:  # noqa: BLE001 - a plugin package whose parent fails to import, an odd sys.path, …
        return None
    return hashlib.sha256(json.dumps(document, default=str).encode()).hexdigest()


def cached_rows(key: str | None) -> list[dict[str, Any]] | None:
    if key is None:
        return None
    try:
        document = json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return None
    return document.get("rows") if isinstance(document, dict) and document.get("key") == key else None


def remember(key: str | None, rows: list[dict[str, Any]]) -> None:
    """Keep a listing of working plugins only (see the module docstring); a cache that cannot be written is skipped."""
    if key is None or any(row.get("status") != "ok" for row in rows):
        return
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "rows": rows}))
        tmp.replace(path)
    except OSError:
        pass
