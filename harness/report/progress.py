"""Live console output: a rich progress bar with losses and images/s, or plain lines off a terminal.

In Jupyter the bar is a live widget when ipywidgets is installed (rich draws it there), else the
plain lines; nothing here needs a terminal.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def _has_widgets() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None


def format_stats(stats: dict[str, float]) -> str:
    return "  ".join(f"{key} {value:.4g}" for key, value in stats.items())


class TrainingProgress:
    def __init__(self, total: int, description: str, console: Console | None = None, start: int = 0) -> None:
        self.console = console or Console(stderr=True)
        self.total = total
        self.live = self.console.is_terminal or (self.console.is_jupyter and _has_widgets())
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[stats]}"),
            console=self.console, disable=not self.live, transient=False,
        )
        self.task = self.progress.add_task(description, total=total, completed=start, stats="")
        self._last_line = start

    def __enter__(self) -> TrainingProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def advance(self, step: int) -> None:
        self.progress.update(self.task, completed=step)

    def show(self, step: int, stats: dict[str, float]) -> None:
        text = format_stats(stats)
        self.progress.update(self.task, completed=step, stats=text)
        if not self.live and (step - self._last_line >= max(1, self.total // 10) or step == self.total):
            self._last_line = step
            self.console.print(f"step {step}/{self.total}  {text}", highlight=False)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)
