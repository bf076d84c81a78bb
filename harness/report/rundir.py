"""The run directory: the only place a run writes, and never over someone else's files.

    config.json     fully resolved RunConfig (+ data provenance)
    metrics.jsonl   one JSON record per log interval / evaluation
    summary.json    final figures, throughput, environment and versions
    samples/        sample plots over time;  checkpoints/  training state
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..contract.errors import GanzooError


class RunDirError(GanzooError, FileExistsError):
    pass


def default_run_dir(model: str, dataset: str, root: Path = Path("runs")) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    safe_dataset = dataset.replace(":", "-").replace("/", "_")[-40:]
    return root / f"{model}-{safe_dataset}-{stamp}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no inf/nan; keep them readable instead of crashing
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(_jsonable(data), tmp, indent=2)
        tmp.write("\n")
    os.replace(tmp.name, path)


class RunDir:
    """``resume=True``: the directory may hold an earlier run (continued with ``--resume``).

    ``writable`` is False on every process but rank 0 of a multi-process run: there the write
    methods do nothing, so only one process ever writes.
    """

    def __init__(self, path: Path, *, resume: bool = False) -> None:
        self.path = Path(path)
        if not resume and self.path.exists() and any(self.path.iterdir()):
            raise RunDirError(f"run directory {self.path} already exists and is not empty; "
                              "choose another --out, or continue it with --resume")
        self.path.mkdir(parents=True, exist_ok=True)
        self.samples = self.path / "samples"
        self.checkpoints = self.path / "checkpoints"
        self.writable = True

    def write_config(self, config: dict) -> None:
        if self.writable:
            write_json_atomic(self.path / "config.json", config)

    def read_config(self) -> dict:
        path = self.path / "config.json"
        if not path.is_file():
            raise RunDirError(f"{self.path} has no config.json: it is not a ganzoo run directory")
        return json.loads(path.read_text())

    def write_summary(self, summary: dict) -> None:
        if self.writable:
            write_json_atomic(self.path / "summary.json", summary)

    def append_metrics(self, record: dict) -> None:
        if self.writable:
            with open(self.path / "metrics.jsonl", "a") as handle:
                handle.write(json.dumps(_jsonable(record)) + "\n")

    def truncate_metrics(self, step: int) -> None:
        """Drop records after ``step`` (written after the checkpoint a resumed run continues from)."""
        path = self.path / "metrics.jsonl"
        if not self.writable or not path.exists():
            return
        kept = [line for line in path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]
        with tempfile.NamedTemporaryFile("w", dir=self.path, delete=False, suffix=".tmp") as tmp:
            tmp.write("".join(line + "\n" for line in kept))
        os.replace(tmp.name, path)

    def read_metrics(self) -> list[dict]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
