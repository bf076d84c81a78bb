"""Matplotlib for a run's pictures, loaded when the first figure is drawn.

Figures are drawn only at the end of a run, so nothing imports matplotlib before (0.2–0.4 s here).
Loading it earlier in a background thread was measured and rejected: while that thread ran Python,
the training loop waited for the GIL after each torch kernel, and 300 DCGAN iterations took 2.5–3 s
longer (docs/performance.md).

Figures use the object API (``matplotlib.figure.Figure``, saved through the Agg canvas), never pyplot:
there is no global registry of open figures, so a figure can be drawn from any thread and nothing needs
closing, and a user's interactive pyplot backend is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def figure(**kwargs: Any) -> Figure:
    """A new ``Figure(**kwargs)``; ``fig.subplots(...)`` adds axes, ``fig.savefig(path)`` writes it."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


__all__ = ["figure"]
