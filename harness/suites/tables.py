"""The Markdown leaderboard of any suite: the table kind follows the suite kind."""

from __future__ import annotations

from typing import Any

from .leaderboard import quality_markdown, write_section  # noqa: F401 - write_section re-exported
from .leaderboard_throughput import throughput_markdown


def markdown(data: dict[str, Any], title: str | None = None) -> str:
    if data.get("kind") == "throughput":
        return throughput_markdown(data, title)
    return quality_markdown(data, title)
