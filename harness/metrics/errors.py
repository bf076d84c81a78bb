"""The one error type the metrics library raises on bad input or missing weights."""

from __future__ import annotations

from ..contract.errors import GanzooError


class MetricError(GanzooError, ValueError):
    """A metric could not be computed as asked; the message names the numbers involved and the fix."""
