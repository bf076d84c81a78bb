"""What the `ganzoo` commands share: the two consoles (results on stdout, messages on stderr),
``fail()`` for a one-line error with an exit code, and the errors that are the user's to fix.

Kept out of :mod:`.main` so command modules can use it while ``main`` imports them, without a cycle.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from ..contract.presets import PresetError
from ..contract.registry import RegistryError
from ..data.base import DataError
from ..report.rundir import RunDirError
from ..train.resolve import ConfigError

out = Console()
err = Console(stderr=True)

USER_ERRORS = (RegistryError, ConfigError, PresetError, DataError, RunDirError)


def fail(message: str, code: int = 2, quiet: bool = False) -> None:
    if not quiet:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)  # 'ganzoo[wandb]' is not markup
    raise typer.Exit(code)
