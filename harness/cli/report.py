"""`ganzoo report RUN_DIR`: (re)write a run's report.md (and with ``--html`` report.html) from the
files the run wrote, without training or evaluating anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import fail, out


def report(run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `ganzoo run`")],
           html: Annotated[bool, typer.Option("--html", help="Also write report.html (one file, images "
                                              "embedded)")] = False) -> None:
    """(Re)write RUN_DIR/report.md with its plots from the run's own files."""
    from ..report.markdown import write_html, write_report

    if not (run_dir / "config.json").is_file():
        fail(f"{run_dir} is not a run directory (no config.json): pass the folder `ganzoo run` wrote")
    try:
        out.print(f"wrote {write_report(run_dir)}")
        if html:
            out.print(f"wrote {write_html(run_dir)}")
    except OSError as error:  # a full disk or a read-only run directory: one line, the run's files untouched
        fail(f"cannot write the report into {run_dir}: {error.strerror or error}")
