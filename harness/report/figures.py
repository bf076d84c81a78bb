"""Matplotlib for a run's pictures, loaded off the critical path.

Importing matplotlib and reading its font cache costs 0.2–0.4 s here, a visible share of a short run
(docs/performance.md), yet figures are drawn only at the end. So the trainer calls :func:`preload` when
training starts: a background thread loads matplotlib while the first iterations run (torch's kernels
release the GIL, so the import overlaps with them), and :func:`figure` waits for that load if it is
still running. Without a preload, :func:`figure` loads matplotlib itself.

Figures use the object API (``matplotlib.figure.Figure``, saved through the Agg canvas), never pyplot:
there is no global registry of open figures, so a figure can be drawn from any thread and nothing needs
closing, and a user's interactive pyplot backend is left alone.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

_loader: threading.Thread | None = None
_started = threading.Lock()


def _load() -> None:
    from matplotlib import font_manager
    from matplotlib.backends import backend_agg  # noqa: F401 - what savefig draws PNGs with
    from matplotlib.figure import Figure  # noqa: F401

    font_manager.findfont(font_manager.FontProperties())  # reads the font cache once


def preload() -> None:
    """Start loading matplotlib in a background thread (once per process; later calls do nothing)."""
    global _loader
    with _started:
        if _loader is None:
            _loader = threading.Thread(target=_load, name="ganzoo-matplotlib", daemon=True)
            _loader.start()


def figure(**kwargs: Any) -> Figure:
    """A new ``Figure(**kwargs)``; ``fig.subplots(...)`` adds axes, ``fig.savefig(path)`` writes it."""
    if _loader is not None:
        _loader.join()
    from matplotlib.figure import Figure

    return Figure(**kwargs)


__all__ = ["figure", "preload"]
