"""What the `ganzoo` commands share: the two consoles (results on stdout, messages on stderr),
``fail()`` for a one-line error with an exit code, and the errors that are the user's to fix.

Kept out of :mod:`.main` so command modules can use it while ``main`` imports them, without a cycle.
Nothing heavy is imported here: ``ganzoo --help`` and a typo must answer without loading torch, so
the error classes are collected by :func:`user_errors` only when something went wrong.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)


def user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's to fix: printed as one clear line, never as a traceback."""
    from ..contract.presets import PresetError
    from ..contract.registry import RegistryError
    from ..data.base import DataError
    from ..report.rundir import RunDirError, StorageError
    from ..train.resolve import ConfigError

    return (RegistryError, ConfigError, PresetError, DataError, RunDirError, StorageError)


def fail(message: str, code: int = 2, quiet: bool = False) -> None:
    if not quiet:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False,  # 'ganzoo[wandb]' is not markup
                  soft_wrap=True)  # one line, however long
    raise typer.Exit(code)
