"""The command line prints every error that is the user's to fix (any ``GanzooError``) as one line with exit
code 2, and leaves anything else a traceback: no hand-kept list of error classes (harness/cli/main.py).

In process, through the same ``_run_app`` that ``ganzoo`` runs (tests/cli/test_commands.py starts the real
command in a subprocess)."""

import importlib
import sys

import pytest
import typer

from ganzoo.harness.contract.errors import GanzooError

main = importlib.import_module("ganzoo.harness.cli.main")  # the package's `main` is the function


def _run(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["ganzoo", *args])
    with pytest.raises(SystemExit) as stop:
        main._run_app()
    return stop.value.code


def _app_raising(error: Exception) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def fails() -> None:
        raise error

    @app.command()
    def other() -> None:  # two commands, so `fails` is a subcommand as in ganzoo
        pass

    return app


def test_any_ganzoo_error_is_one_line_and_exit_code_2(monkeypatch, capsys):
    class BrandNewError(GanzooError, KeyError):  # a class no list in the CLI could name
        def __str__(self) -> str:
            return "do [this] instead"  # rich markup in a message is printed as text

    monkeypatch.setattr(main, "app", _app_raising(BrandNewError()))
    assert _run(monkeypatch, "fails") == 2
    stderr = capsys.readouterr().err
    assert stderr == "error: do [this] instead\n"


def test_an_error_that_is_not_the_users_stays_a_traceback(monkeypatch):
    monkeypatch.setattr(main, "app", _app_raising(RuntimeError("a bug")))
    monkeypatch.setattr(sys, "argv", ["ganzoo", "fails"])
    with pytest.raises(RuntimeError, match="a bug"):
        main._run_app()


def test_a_bad_bench_executor_option_is_one_line(monkeypatch, capsys):
    """ExecutorError was a plain RuntimeError, missing from the CLI's two lists: a traceback for ``--jobs 0``."""
    assert _run(monkeypatch, "bench", "--suite", "smoke", "--jobs", "0") == 2
    assert capsys.readouterr().err == "error: --jobs must be ≥ 1, got 0\n"
    assert _run(monkeypatch, "bench", "--suite", "smoke", "--partition", "gpu") == 2
    assert capsys.readouterr().err == "error: --partition and SLURM options need --executor slurm\n"
