"""``ganzoo export RUN_DIR --out FILE``: the run's generator as one self-contained safetensors file.

The file holds the generator's weights (EMA or raw), the model name, the resolved config, the data
shape and a sha256 of its content (``harness.api.artifact``); ``ganzoo.load(FILE)`` rebuilds it on
any machine where the model's plugin is installed, and its samples equal the run's for the same seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import fail, out


def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `ganzoo run`")],
    output: Annotated[Path, typer.Option("--out", help="File to write, e.g. gan-ring.safetensors")],
    which: Annotated[Optional[str], typer.Option(help="raw | ema (default: raw, the trained generator, as everywhere)")] = None,
    checkpoint: Annotated[str, typer.Option(help="'last', 'best' or a step number")] = "last",
) -> None:
    """Export a run's trained generator (weights + model, config, data shape, sha256) to one file."""
    from ..api import export as export_generator

    if not (run_dir / "config.json").is_file():
        fail(f"{run_dir} is not a run directory (no config.json): pass the folder `ganzoo run` wrote")
    metadata = export_generator(run_dir, output, which, checkpoint=checkpoint)
    out.print(f"wrote {output}: {metadata['model']} ({metadata['generator']} generator, step {metadata['step']})",
              highlight=False)
    out.print(f"sha256 {metadata['file_sha256']}  {output.name}", highlight=False)
