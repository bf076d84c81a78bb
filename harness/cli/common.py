"""What the `ganzoo` commands share: the two consoles (results on stdout, messages on stderr),
``fail()`` for a one-line error with an exit code (an uncaught ``GanzooError`` becomes the same line:
:mod:`.main`), and help that reads at 80 columns (:class:`Command`, :class:`Group`).

Help: an option shows its metavar (N, PATH, KEY=VALUE) or nothing for a flag, instead of typer's
``<int>``/``<bool>``/``<list[str]>`` labels, and the usage line names the arguments as
``MODEL``/``RUN_DIR``, without braces. Every command is registered with ``cls=Command`` (see
:mod:`.main`); the group uses :class:`Group`.

Kept out of :mod:`.main` so command modules can use it while ``main`` imports them, without a cycle.
Nothing heavy is imported here: ``ganzoo --help`` and a typo must answer without loading torch.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2, quiet: bool = False) -> None:
    if not quiet:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False,  # 'ganzoo[wandb]' is not markup
                  soft_wrap=True)  # one line, however long
    raise typer.Exit(code)


def _plain(params: list[Any]) -> None:
    for param in params:
        if getattr(param, "param_type_name", "") == "argument" or getattr(param, "is_flag", False):
            shown = None  # an argument's metavar is already its name; a flag takes no value
        else:
            shown = param.metavar or (param.name or "").upper()
        param.display_type_rich = lambda ctx, shown=shown: shown


class Command(TyperCommand):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain(self.get_params(ctx))
        super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [piece.replace("{", "").replace("}", "") for piece in super().collect_usage_pieces(ctx)]


class Group(TyperGroup):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain(self.get_params(ctx))
        super().format_help(ctx, formatter)
