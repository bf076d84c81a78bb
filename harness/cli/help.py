"""Help that reads at 80 columns: an option shows its metavar (N, PATH, KEY=VALUE) or nothing for a
flag, instead of typer's ``<int>``/``<bool>``/``<list[str]>`` labels, and the usage line names the
arguments as ``MODEL``/``RUN_DIR``, without braces.

Every command is registered with ``cls=Command`` (see :mod:`.main`); the group uses :class:`Group`.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup


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
