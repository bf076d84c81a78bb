"""`ganzoo bench`: run a suite declared in registry.toml and keep every result with its protocol.

A suite is a list of presets × seeds (or, for ``kind = "smoke"``, every installed model for a
few steps). Each finished entry is appended to ``results.json`` at once, so an interrupted suite
continues with ``--resume`` where it stopped. The leaderboard (``harness.leaderboard``) is
generated from that file alone.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import registry
from .environment import environment
from .presets import PresetError, all_presets, format_errors, registry_path
from .resolve import resolve_run
from .rundir import RunDir, write_json_atomic


class Reference(BaseModel):
    """A published number the suite compares against."""

    model_config = ConfigDict(extra="forbid")

    row: str = Field(description="Label as the paper names it, e.g. 'PacGAN4'")
    source: str = Field(description="Paper and table, e.g. 'PacGAN (Lin et al. 2018) Table 1'")
    dataset: str
    model: str | None = Field(None, description="Our model this row should be compared with, if any")
    values: dict[str, float]


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    kind: Literal["presets", "smoke"] = "presets"
    presets: list[str] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=lambda: [0])
    steps: int | None = Field(None, ge=1, description="Override every entry's steps (smoke runs)")
    batch_size: int | None = Field(None, ge=1, description="Override every entry's batch size")
    budget_s: float = Field(600, gt=0, description="Time budget per entry; entries over it are flagged")
    metrics: list[str] = Field(default_factory=list, description="Metrics shown in the leaderboard")
    references: list[Reference] = Field(default_factory=list)


class BenchError(ValueError):
    pass


def load_suites(path: Path | None = None) -> dict[str, Suite]:
    import tomllib

    path = path or registry_path()
    document = tomllib.loads(path.read_text())
    suites = {}
    for name, table in document.get("suites", {}).items():
        try:
            suites[name] = Suite.model_validate(table)
        except ValidationError as error:
            raise PresetError(format_errors(error, path, f'suites."{name}"')) from None
    presets = all_presets(path)
    for name, suite in suites.items():
        missing = [p for p in suite.presets if p not in presets]
        if missing:
            raise PresetError(f"{path}: [suites.\"{name}\"] names unknown presets {missing}")
    return suites


def entries(suite: Suite, models: list[str] | None) -> list[dict[str, Any]]:
    """What to run: one dict per (preset or model, seed)."""
    if suite.kind == "smoke":
        working, _ = registry.discover()
        names = [p.spec.name for p in working]
        chosen = [{"model": name, "preset": None, "seed": seed} for name in names for seed in suite.seeds]
    else:
        presets = all_presets()
        chosen = [{"model": presets[p].model, "preset": p, "seed": seed} for p in suite.presets for seed in suite.seeds]
    if models:
        chosen = [entry for entry in chosen if entry["model"] in models]
    for entry in chosen:
        entry["key"] = f"{entry['preset'] or entry['model']}@seed{entry['seed']}"
    return chosen


def run_entry(entry: dict[str, Any], suite: Suite, out: Path, data_dir: Path | None) -> dict[str, Any]:
    from .trainer import Trainer  # heavy imports only when something runs

    overrides: dict[str, Any] = {"seed": entry["seed"]}
    if suite.steps:
        overrides["steps"] = suite.steps
    if suite.batch_size:
        overrides["batch_size"] = suite.batch_size
    started = time.perf_counter()
    record: dict[str, Any] = {"key": entry["key"], "model": entry["model"], "preset": entry["preset"],
                              "seed": entry["seed"]}
    try:
        if suite.kind == "smoke":
            overrides.update(eval_samples=256, log_every=1)
        run, plugin = resolve_run(entry["model"], preset=entry["preset"], train_overrides=overrides)
        run_dir = RunDir(fresh_dir(out / "runs" / entry["key"].replace("/", "_").replace("@", "-")))
        summary = Trainer(run, plugin, run_dir, data_dir=data_dir, progress=False).fit()
        finite = not any(key.endswith(("nonfinite_loss", "nonfinite_grad")) for key in summary["counters"])
        record.update(status="ok" if finite else "non-finite", dataset=run.dataset, metrics=summary["metrics"],
                      throughput=summary["throughput"], counters=summary["counters"], run_dir=str(run_dir.path),
                      steps=summary["steps"], protocol=summary.get("protocol", {}))
    except Exception as error:  # noqa: BLE001 - one failing model must not stop the suite
        record.update(status="failed", error=f"{type(error).__name__}: {error}",
                      traceback=traceback.format_exc(limit=5))
    record["seconds"] = time.perf_counter() - started
    record["over_budget"] = record["seconds"] > suite.budget_s
    return record


def fresh_dir(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``… when an earlier (failed) attempt left it behind."""
    candidate, attempt = path, 1
    while candidate.exists():
        attempt += 1
        candidate = path.with_name(f"{path.name}-{attempt}")
    return candidate


class Results:
    """``results.json``: suite metadata and one record per finished entry, rewritten atomically."""

    def __init__(self, path: Path, suite_name: str, suite: Suite, resume: bool) -> None:
        self.path = path
        if path.exists() and not resume:
            raise BenchError(f"{path} exists; continue it with --resume or choose another --out")
        if path.exists():
            self.data = json.loads(path.read_text())
        else:
            import torch

            self.data = {"suite": suite_name, "description": suite.description, "metrics": suite.metrics,
                         "references": [r.model_dump() for r in suite.references],
                         "environment": environment(torch.device("cpu")), "records": []}

    def done(self) -> set[str]:
        return {r["key"] for r in self.data["records"] if r["status"] != "failed"}

    def add(self, record: dict[str, Any]) -> None:
        self.data["records"] = [r for r in self.data["records"] if r["key"] != record["key"]] + [record]
        write_json_atomic(self.path, self.data)


def run_suite(name: str, *, out: Path, models: list[str] | None = None, resume: bool = False,
              data_dir: Path | None = None, on_record=None) -> dict[str, Any]:
    suites = load_suites()
    if name not in suites:
        raise BenchError(f"unknown suite {name!r}; registry.toml defines {', '.join(sorted(suites))}")
    suite = suites[name]
    out.mkdir(parents=True, exist_ok=True)
    results = Results(out / "results.json", name, suite, resume)
    finished = results.done()
    for entry in entries(suite, models):
        if entry["key"] in finished:
            continue
        record = run_entry(entry, suite, out, data_dir)
        results.add(record)
        if on_record is not None:
            on_record(record)
    return results.data


__all__ = ["BenchError", "Reference", "Suite", "load_suites", "run_suite"]
