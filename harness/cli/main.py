"""The `ganzoo` command line (typer + rich): the ``app``, every command registered on it, and
``main()``, which prints the user's errors as one line instead of a traceback.

Each command lives in its own module and is registered here, in the order ``ganzoo --help`` lists
them: :mod:`.list_show_presets` (list, show, presets), :mod:`.run`, :mod:`.bench`, :mod:`.eval` (eval and
classifier train), :mod:`.sample`, :mod:`.export`, :mod:`.report`, :mod:`.translate` and :mod:`.check`. The
command modules never import this one; what they share is in :mod:`.common`. Command modules import only
typer and rich at module level (torch, matplotlib and the registry load inside the commands), so
``ganzoo --help`` and a typo answer at once; ``tests/cli/test_conventions.py`` keeps it so. Every
error that is the user's to fix derives from ``GanzooError`` (:mod:`..contract.errors`): ``main`` prints
it as one line and exits with code 2. ``ganzoo run`` defers cyclic garbage collection until training
starts (:mod:`..train.process_control`), and the process ends without the interpreter's module
teardown (:func:`exit_process`).

**Ending without module teardown.** When a command is done, CPython's finalisation frees every module's
objects one by one. With torch, torch._dynamo (which any torch optimizer loads) and sympy imported, that
takes 0.5–1.3 s on this project's CPU (``python -c "import torch"`` alone spends 0.66 s exiting under
load) and changes nothing on disk: the memory goes back to the OS either way. :func:`exit_process` does
what a normal exit does that has effects, in the same order — wait for non-daemon threads, run the
``atexit`` handlers (experiment trackers, multiprocessing, logging, coverage), flush stdout and stderr —
and then ends the process with ``os._exit``. Only the ``ganzoo`` command calls it; code that imports
ganzoo exits normally.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Annotated, Optional

import typer
from rich.markup import escape

from .common import Command, Group, err
from ..train.process_control import defer_collection

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, cls=Group,
                  help="ganzoo: a GAN model zoo with one honest training and benchmarking harness.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"ganzoo {version('ganzoo')}")
        except PackageNotFoundError:  # a bare checkout that was never installed
            typer.echo("ganzoo (not installed: no version metadata)")
        raise typer.Exit()


@app.callback()
def _options(show_version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print ganzoo's version and exit")] = None) -> None:
    """ganzoo: a GAN model zoo with one honest training and benchmarking harness."""


def _register_commands() -> None:
    """Commands that live in their own modules (one file, one idea)."""
    from .bench import bench
    from .list_show_presets import list_models, list_presets, show
    from .check import check
    from .eval import classifier_train, eval_command
    from .export import export
    from .report import report
    from .run import run
    from .sample import sample
    from .translate import translate

    for name, function in (("list", list_models), ("show", show), ("run", run), ("presets", list_presets),
                           ("bench", bench), ("eval", eval_command), ("sample", sample), ("export", export),
                           ("report", report), ("translate", translate), ("check", check)):
        app.command(name, cls=Command)(function)
    classifier = typer.Typer(help="The harness's own feature/digit classifier.", no_args_is_help=True, cls=Group)
    classifier.command("train", cls=Command)(classifier_train)
    app.add_typer(classifier, name="classifier")


_register_commands()


def main() -> None:
    """The ``ganzoo`` command. ``ganzoo run`` collects no cyclic garbage until its first iteration
    (:mod:`..train.process_control`). It ends through :func:`exit_process`: the atexit handlers
    run, the interpreter's module teardown (0.5–1.3 s with torch loaded) does not."""
    if sys.argv[1:2] == ["run"]:
        defer_collection()
    try:
        _run_app()
    except SystemExit as stop:
        exit_process(stop.code)
    exit_process(0)


def _run_app() -> None:
    """Run the command; an error that is the user's to fix (any :class:`..contract.errors.GanzooError`)
    becomes one line and exit code 2, anything else stays a traceback (a bug to report)."""
    from ..contract.errors import GanzooError  # no torch: ganzoo --help stays light

    try:
        app()
    except GanzooError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


def exit_code(code: object) -> int:
    """The status ``SystemExit(code)`` would give: None → 0, an int as is, anything else printed → 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_process(code: object = 0) -> None:
    """Finish like the interpreter would (threads, atexit, streams), then ``os._exit`` with ``code``."""
    status = exit_code(code)
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more can be said there
            pass
    os._exit(status)


if __name__ == "__main__":
    main()
