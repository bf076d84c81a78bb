"""`ganzoo check NAME`: run the conformance suite (harness.check) and print a pass/fail table.

Registered in the main CLI as ``app.command("check")(check)``; also runs on its own as
``python -m ganzoo.harness.cli.check NAME``. Exit code 0 when every check passed (warnings and
skipped checks included), 1 when one failed, 2 for a bad command line: fit for CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

STYLES = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "warn": "[yellow]warn[/]", "skip": "[dim]skip[/]"}


def _names(values: Optional[list[str]]) -> list[str]:
    return [name.strip() for value in values or [] for name in value.split(",") if name.strip()]


def check(
    name: Annotated[str, typer.Argument(metavar="MODEL", help="Installed model to check (see `ganzoo list`)")],
    dataset: Annotated[Optional[str], typer.Option(metavar="NAME", help="Dataset to check on (default: the MODEL/check preset's, "
                                                   "else the model's default dataset; synthetic images when its files are absent)")] = None,
    assignments: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Override a field: key=value (model "
                                                             "field, or train.FIELD), e.g. --set hidden=16")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", metavar="DIR", help="Where image datasets live")] = None,
    only: Annotated[Optional[list[str]], typer.Option("--only", metavar="CHECKS", help="Run only these checks (repeat or "
                                                      "comma-separate)")] = None,
    skip: Annotated[Optional[list[str]], typer.Option("--skip", metavar="CHECKS", help="Leave these checks out, e.g. "
                                                      "--skip data-parallel")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Check that a model plugin keeps the plugin contract: spec, presets, build, no backward/step/device moves of its own, samples, seeds, fp32/bf16 steps, bit-exact resume and 2-process data parallelism.

    Everything runs tiny and on CPU (the preset MODEL/check when the plugin ships one), on synthetic images when the model's dataset is not on disk. Exit code 0 if every check passed, 1 if one failed.
    """  # noqa: E501 - one paragraph per line: --help wraps it to the terminal
    from ..check.conformance import CHECKS, run_checks

    out = Console()
    err = Console(stderr=True)
    chosen, left_out = _names(only), _names(skip)
    unknown = [c for c in chosen + left_out if c not in CHECKS]
    if unknown:
        err.print(f"[bold red]error:[/] unknown check(s) {', '.join(unknown)}; the checks are: {', '.join(CHECKS)}",
                  highlight=False)
        raise typer.Exit(2)
    if as_json:
        report = run_checks(name, dataset=dataset, assignments=assignments or [], data_dir=data_dir,
                            only=chosen or None, skip=left_out)
        out.print_json(json.dumps(report.as_dict()))
        raise typer.Exit(0 if report.ok else 1)

    with err.status(f"checking {name} …") as status:
        def progress(result) -> None:
            err.print(f"  {STYLES[result.status]} {result.check} ({result.seconds:.1f} s)", highlight=False)
            status.update(f"checking {name} …")

        report = run_checks(name, dataset=dataset, assignments=assignments or [], data_dir=data_dir,
                            only=chosen or None, skip=left_out, on_result=progress)
    table = Table(title=f"ganzoo check {name}" + (f" on {report.dataset}" if report.dataset else ""),
                  show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("time", justify="right", no_wrap=True)
    for result in report.results:
        table.add_row(result.check, STYLES[result.status], result.detail, f"{result.seconds:.1f} s")
    out.print(table)
    counts = {status: sum(r.status == status for r in report.results) for status in STYLES}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if report.ok:
        out.print(f"[bold green]{name} passed[/] ({summary}) in {report.seconds:.1f} s", highlight=False)
    else:
        out.print(f"[bold red]{name} failed[/] ({summary}) in {report.seconds:.1f} s", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command()(check)

if __name__ == "__main__":
    app()
