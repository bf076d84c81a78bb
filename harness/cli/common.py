"""What the `ganzoo` commands share: the two consoles (results on stdout, messages on stderr),
and ``fail()`` for a one-line error with an exit code (an uncaught ``GanzooError`` becomes the same line:
:mod:`.main`).

Kept out of :mod:`.main` so command modules can use it while ``main`` imports them, without a cycle.
Nothing heavy is imported here: ``ganzoo --help`` and a typo must answer without loading torch.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2, quiet: bool = False) -> None:
    if not quiet:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False,  # 'ganzoo[wandb]' is not markup
                  soft_wrap=True)  # one line, however long
    raise typer.Exit(code)
