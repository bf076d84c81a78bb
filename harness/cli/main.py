"""The `ganzoo` command line (typer + rich): the ``app``, every command registered on it, and
``main()``, which prints the user's errors as one line instead of a traceback.

Each command lives in its own module and is registered here, in the order ``ganzoo --help`` lists
them: :mod:`.catalog` (list, show, presets), :mod:`.run`, :mod:`.bench`, :mod:`.eval` (eval and
classifier train), :mod:`.sample`, :mod:`.export`, :mod:`.report`, :mod:`.translate` and :mod:`.check`. The command
modules never import this one; what they share is in :mod:`.common`.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from .common import USER_ERRORS, err

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ganzoo: a GAN model zoo with one honest training and benchmarking harness.")


def _register_commands() -> None:
    """Commands that live in their own modules (one file, one idea)."""
    from .bench import bench
    from .catalog import list_models, list_presets, show
    from .check import check
    from .eval import classifier_train, eval_command
    from .export import export
    from .report import report
    from .run import run
    from .sample import sample
    from .translate import translate

    app.command("list")(list_models)
    app.command()(show)
    app.command()(run)
    app.command("presets")(list_presets)
    app.command("bench")(bench)
    app.command("eval")(eval_command)
    app.command("sample")(sample)
    app.command("export")(export)
    app.command("report")(report)
    app.command("translate")(translate)
    app.command("check")(check)
    classifier = typer.Typer(help="The harness's own feature/digit classifier.", no_args_is_help=True)
    classifier.command("train")(classifier_train)
    app.add_typer(classifier, name="classifier")


_register_commands()


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's to fix: printed as one clear line, never as a traceback."""
    from ..bench.suites import BenchError
    from ..contract.errors import GanzooError
    from ..train.checkpoint import CheckpointError
    from ..metrics import MetricError
    from .sample import SampleError

    return USER_ERRORS + (BenchError, CheckpointError, MetricError, SampleError, GanzooError)


def main() -> None:
    try:
        app()
    except _user_errors() as error:  # raised outside a command's own handling, e.g. a broken registry.toml
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
