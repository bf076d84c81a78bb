"""`ganzoo bench`: run a suite declared in registry.toml and keep every result with its protocol.

A suite is a list of presets × seeds (``kind = "presets"``), every installed model for a few
steps (``"smoke"``), or presets × precisions × process counts timed without metrics
(``"throughput"``). Each entry has a time budget: training stops there and what it reached is
scored and marked. A suite may require a GPU or the Inception weights; on a machine without them
its entries are recorded as skipped, with the reason. Each finished entry is appended to
``results.json`` at once, so an interrupted suite continues with ``--resume`` where it stopped.
The leaderboard (``harness.suites.leaderboard``) is generated from that file alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..contract import registry
from .agreement import Agreement
from .executor import ExecutorOptions, run_jobs
from .requirements import Requirement, unmet_reasons, placement_problem
from ..contract.config import Precision
from ..contract.errors import BenchError, BenchInterrupted, DataError, PresetError
from ..data.catalog import SYNTHETIC, dataset_kind
from ..report.environment import environment
from ..contract.presets import all_presets, format_errors, presets_for, registry_path
from ..train.resolve import resolve_run
from ..report.rundir import RunDir, write_json_atomic


class Reference(BaseModel):
    """A published number the suite compares against."""

    model_config = ConfigDict(extra="forbid")

    row: str = Field(description="Label as the paper names it, e.g. 'PacGAN4'")
    source: str = Field(description="Paper and table, e.g. 'PacGAN (Lin et al. 2018) Table 1'")
    dataset: str
    model: str | None = Field(None, description="Our model this row should be compared with, if any")
    presets: list[str] = Field(default_factory=list, description=(
        "Our presets this row should be compared with (default: every preset of `model`)"))
    values: dict[str, float]

    def matches(self, entry: str, model: str, dataset: str) -> bool:
        """Whether this published row sits next to our row ``entry`` (a preset, or a model in smoke suites)."""
        if self.presets:
            return entry in self.presets
        return self.model is not None and self.model == model and self.dataset == dataset


class Budgets(BaseModel):
    """``[suites.NAME.budgets]``: where to read a metric off the runs' curves (harness.suites.budgets)."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="The metric compared, e.g. fid; the presets must evaluate it during training")
    at_steps: list[int] = Field(default_factory=list, description=(
        "Iterations (generator updates) to compare at; each preset's eval_every must divide them"))
    at_seconds: list[float] = Field(default_factory=list, description="Training seconds to compare within")
    baseline: str | None = Field(None, description="Preset whose value the others are divided by, e.g. dcgan/mnist")


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    kind: Literal["presets", "smoke", "throughput"] = Field("presets", description=(
        "presets: train each preset × seed and score it; smoke: every installed model for a few steps on "
        "generated data of its kind (no files needed); "
        "throughput: each preset × precision × process count, timed without metrics"))
    presets: list[str] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=lambda: [0])
    generator: Literal["raw", "ema"] = Field("raw", description=(
        "Which generator the leaderboard scores: the trained one (raw) or, for presets with an EMA, its "
        "weight average (ema). Runs store both; the table says which it shows"))
    steps: int | None = Field(None, ge=1, description="Override every entry's steps (smoke and throughput runs)")
    batch_size: int | None = Field(None, ge=1, description="Override every entry's batch size")
    budget_s: float = Field(600, gt=0, description=(
        "Time budget per entry: training stops there, what it reached is evaluated, the entry is marked time-limit"))
    requires: list[Requirement] = Field(default_factory=list, description=(
        "What the machine must have (cuda, inception-weights); entries are skipped with the reason otherwise"))
    precisions: list[Precision] = Field(default_factory=lambda: ["fp32"], description="throughput suites only")
    processes: list[int] = Field(default_factory=lambda: [1], description="throughput suites only")
    measure_s: float | None = Field(None, gt=0, description=(
        "throughput suites: train each entry for this many seconds (a fixed window, so a slow model and a fast "
        "one are timed over the same wall time) instead of a fixed number of steps"))
    metrics: list[str] = Field(default_factory=list, description=(
        "Metrics shown in the leaderboard; 'diagnostic:NAME' names a model's own diagnostic "
        "(PhaseResult.diagnostics, final value; NAME as recorded, '<phase>/<key>', or just '<key>')"))
    references: list[Reference] = Field(default_factory=list)
    budgets: Budgets | None = Field(None, description=(
        "Compare one metric at equal iterations and equal training time, read off each run's evaluation curve"))
    agreement: Agreement | None = Field(None, description=(
        "Protocol suites: the paper whose table this reproduces and its baselines; the leaderboard then says how "
        "far the rows agree with it (harness.suites.agreement)"))
    notes: dict[str, str] = Field(default_factory=dict, description=(
        "Preset → a sentence printed under the leaderboard: why a row misses its target or reference, what was "
        "measured and tried (the table says why, not only the docs)"))

    @model_validator(mode="after")
    def _throughput_fields(self) -> Suite:
        if self.kind != "throughput" and (self.precisions != ["fp32"] or self.processes != [1] or self.measure_s):
            raise ValueError("precisions, processes and measure_s apply to kind = \"throughput\" suites only; other "
                             "suites take the preset's precision and run in one process")
        if self.measure_s is not None and self.measure_s >= self.budget_s:
            raise ValueError(f"measure_s ({self.measure_s:g}) must be below budget_s ({self.budget_s:g})")
        if any(n < 1 for n in self.processes):
            raise ValueError("processes must be ≥ 1")
        if self.budgets and self.budgets.baseline and self.budgets.baseline not in self.presets:
            raise ValueError(f"budgets.baseline {self.budgets.baseline!r} is not one of the suite's presets")
        if self.agreement and (missing := sorted(set(self.agreement.baselines) - set(self.presets))):
            raise ValueError(f"agreement.baselines {', '.join(missing)} are not presets of the suite")
        unknown = sorted(set(self.notes) - set(self.presets))
        if unknown:
            raise ValueError(f"notes name presets the suite does not run: {', '.join(unknown)}")
        if self.kind == "smoke" and self.presets:
            raise ValueError("a smoke suite runs every installed model; drop presets or use kind = \"presets\"")
        return self


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
        missing = [p for p in suite.presets + [p for ref in suite.references for p in ref.presets] if p not in presets]
        if missing:
            raise PresetError(f"{path}: [suites.\"{name}\"] names unknown presets {missing}")
    return suites


def entries(suite: Suite, models: list[str] | None, only: list[str] | None = None) -> list[dict[str, Any]]:
    """What to run: one dict per (preset or model, seed), or per (preset, precision, processes)."""
    if suite.kind == "smoke":
        working, _ = registry.discover()
        names = [p.spec.name for p in working]
        chosen = [{"model": name, "preset": None, "seed": seed} for name in names for seed in suite.seeds]
        presets = {}
    elif suite.kind == "throughput":
        presets = all_presets()
        chosen = [{"model": presets[p].model, "preset": p, "seed": suite.seeds[0], "precision": precision,
                   "processes": processes}
                  for p in suite.presets for precision in suite.precisions for processes in suite.processes]
    else:
        presets = all_presets()
        chosen = [{"model": presets[p].model, "preset": p, "seed": seed} for p in suite.presets for seed in suite.seeds]
    if models:
        chosen = [entry for entry in chosen if entry["model"] in models]
    if only:
        chosen = [entry for entry in chosen if entry["preset"] in only]
    settings = {"steps": suite.steps, "batch_size": suite.batch_size, **({"data": "generated"} if suite.kind == "smoke"
                                                                         else {})}
    for entry in chosen:
        preset = presets[entry["preset"]].model_dump(include={"model", "dataset", "train", "params"}) \
            if entry["preset"] else None
        entry["fingerprint"] = hashlib.sha256(json.dumps([preset, settings], sort_keys=True, default=str)
                                              .encode()).hexdigest()[:16]
        entry["key"] = (f"{entry['preset']}@{entry['precision']}x{entry['processes']}" if suite.kind == "throughput"
                        else f"{entry['preset'] or entry['model']}@seed{entry['seed']}")
    return chosen


def run_entry(entry: dict[str, Any], suite: Suite, out: Path, data_dir: Path | None) -> dict[str, Any]:
    """One finished record: ``ok``, ``time-limit`` (stopped at the budget, then scored), ``non-finite``,
    ``skipped`` (the machine lacks what the suite needs; the reason says what) or ``failed``."""
    started = time.perf_counter()
    record: dict[str, Any] = {key: entry[key] for key in ("key", "model", "preset", "seed", "precision", "processes",
                                                          "fingerprint") if key in entry}
    record["ran"] = {"host": socket.gethostname(), "pid": os.getpid(), "started_at": time.time()}
    skip = unmet_reasons(suite.requires)
    if skip is None and suite.kind == "throughput":
        skip = placement_problem(entry["precision"], entry["processes"])
    if skip is not None:
        record.update(status="skipped", reason=skip, seconds=0.0, over_budget=False)
        return record
    base = out / "runs" / entry["key"].replace("/", "_").replace("@", "-")
    earlier = unfinished_attempt(base) if suite.kind == "presets" else None
    run_dir = earlier or fresh_dir(base)
    try:
        if suite.kind == "throughput":
            from .throughput_entry import run_throughput_entry

            record.update(run_throughput_entry(entry, run_dir, steps=suite.steps, batch_size=suite.batch_size,
                                               data_dir=data_dir, time_limit_s=suite.measure_s or suite.budget_s,
                                               window=suite.measure_s is not None))
            record["run_dir"] = str(run_dir)
        elif earlier is not None:
            from ..contract.errors import ResumeError

            try:  # continue the stopped attempt from its latest checkpoint: no finished step is trained twice
                record.update(_train_entry(entry, suite, run_dir, data_dir, resume=True))
            except ResumeError as error:  # e.g. the preset changed since: that attempt is not this entry
                record["not_resumed"] = f"{run_dir}: {error}"
                run_dir = fresh_dir(base)
                record.update(_train_entry(entry, suite, run_dir, data_dir))
        else:
            record.update(_train_entry(entry, suite, run_dir, data_dir))
    except DataError as error:  # the machine lacks the entry's data: a missing requirement, not a failure
        record.update(status="skipped", reason=str(error).replace("\n", " "))
    except Exception as error:  # noqa: BLE001 - one failing model must not stop the suite
        record.update(status="failed", error=f"{type(error).__name__}: {error}",
                      traceback=traceback.format_exc(limit=5))
    record["seconds"] = time.perf_counter() - started
    record["ran"]["finished_at"] = time.time()
    record["over_budget"] = record.get("status") == "time-limit"
    return record


def _train_entry(entry: dict[str, Any], suite: Suite, run_dir: Path, data_dir: Path | None, *,
                 resume: bool = False) -> dict[str, Any]:
    """Train one preset × seed in this process under the suite's time budget; its summary as a record.
    ``resume``: continue ``run_dir`` from its latest checkpoint (the budget then counts this attempt only)."""
    from ..train.trainer import Trainer  # heavy imports only when something runs

    overrides: dict[str, Any] = {"seed": entry["seed"]}
    if suite.steps:
        overrides["steps"] = suite.steps
    if suite.batch_size:
        overrides["batch_size"] = suite.batch_size
    dataset = None
    if suite.kind == "smoke":  # generated data of the model's kind: the suite needs no files on disk
        overrides.update(eval_samples=256, log_every=1)
        default = registry.get(entry["model"]).spec.default_dataset
        dataset = SYNTHETIC[dataset_kind(default)]
        # the resolution the model's own preset for its default dataset uses (BEGAN needs a power of two)
        resolution = presets_for(entry["model"]).get(f"{entry['model']}/{default}", None)
        if resolution is not None and resolution.train.get("resolution"):
            overrides.setdefault("resolution", resolution.train["resolution"])
    run, plugin = resolve_run(entry["model"], preset=entry["preset"], dataset=dataset, train_overrides=overrides)
    directory = RunDir(run_dir, resume=resume)
    trainer = Trainer(run, plugin, directory, data_dir=data_dir, progress=False, time_limit_s=suite.budget_s,
                      resume=resume)
    resumed_from = trainer.state.resumed_from
    summary = trainer.fit()
    finite = not any(key.endswith(("nonfinite_loss", "nonfinite_grad")) for key in summary["counters"])
    if summary["status"] == "interrupted":  # a signal (Ctrl-C, SIGTERM): unfinished, so not a result
        return {"status": "interrupted", "dataset": run.dataset, "run_dir": str(directory.path),
                "steps": summary["steps"], "steps_planned": run.train.steps,
                "error": f"interrupted after step {summary['steps']}/{run.train.steps}; --resume runs it again"}
    resumed = {"resumed_from": str(resumed_from)} if resumed_from is not None else {}
    status = "non-finite" if not finite else ("time-limit" if summary["status"] == "time-limit" else "ok")
    by_generator = summary.get("metrics_by_generator") or {}
    generator = suite.generator if suite.generator in by_generator else summary.get("scored_generator", "raw")
    from ..train.state import diagnostic_metrics

    diagnostics = {f"diagnostic:{k}": v for k, v in diagnostic_metrics(summary.get("diagnostics") or {}).items()}
    return {"status": status, "dataset": run.dataset, "generator": generator,
            "metrics": {**by_generator.get(generator, summary["metrics"]), **diagnostics},
            "metrics_by_generator": by_generator,
            "throughput": summary["throughput"], "counters": summary["counters"], "run_dir": str(directory.path),
            "steps": summary["steps"], "steps_planned": run.train.steps, "stopped": summary.get("stopped"),
            "protocol": summary.get("protocol", {}), **resumed}


def unfinished_attempt(path: Path) -> Path | None:
    """The latest earlier attempt at this entry (``path``, ``path-2``…) if it stopped before its end with a
    checkpoint to continue from (killed, interrupted, out of time on a former run); else None."""
    attempts = [path] + sorted(path.parent.glob(f"{path.name}-[0-9]*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    latest = next((p for p in reversed(attempts) if p.is_dir()), None)
    if latest is None or not any((latest / "checkpoints").glob("step_*.pt")):
        return None
    summary = latest / "summary.json"  # a run stopped by a signal writes one too, with status "interrupted"
    if summary.exists():
        try:
            if json.loads(summary.read_text()).get("status") != "interrupted":
                return None
        except (OSError, ValueError):
            return None
    return latest


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
            if self.data.get("suite") != suite_name:
                raise BenchError(f"{path} holds suite {self.data.get('suite')!r}, not {suite_name!r}; "
                                 "choose another --out")
            self.data.update(self._metadata(suite))  # the suite's text and references as registry.toml has them now
        else:
            import torch

            self.data = {"suite": suite_name, **self._metadata(suite),
                         "environment": environment(torch.device("cuda" if torch.cuda.is_available() else "cpu")),
                         "records": []}

    @staticmethod
    def _metadata(suite: Suite) -> dict[str, Any]:
        return {"kind": suite.kind, "description": suite.description, "metrics": suite.metrics,
                "budget_s": suite.budget_s, "references": [r.model_dump() for r in suite.references],
                "budgets": suite.budgets.model_dump() if suite.budgets else None, "notes": suite.notes,
                "agreement": suite.agreement.model_dump() if suite.agreement else None}

    def done(self, current: dict[str, str]) -> set[str]:
        """Entries --resume does not run again: failed and skipped ones are retried, and so are those whose
        preset changed in registry.toml since they ran (``current``: key → fingerprint of the preset now)."""
        return {r["key"] for r in self.data["records"] if r["status"] not in ("failed", "skipped", "interrupted")
                and r.get("fingerprint", current.get(r["key"])) == current.get(r["key"])}

    def add(self, record: dict[str, Any]) -> None:
        self.data["records"] = [r for r in self.data["records"] if r["key"] != record["key"]] + [record]
        write_json_atomic(self.path, self.data)


def run_suite(name: str, *, out: Path, models: list[str] | None = None, presets: list[str] | None = None,
              resume: bool = False,
              data_dir: Path | None = None, on_record=None, executor: ExecutorOptions | None = None,
              overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the entries not finished yet; ``executor``: in this process (default) or as submitit jobs
    (``harness.suites.executor``); ``overrides``: suite fields for this run (``steps``, ``seeds``…)."""
    suites = load_suites()
    if name not in suites:
        raise BenchError(f"unknown suite {name!r}; registry.toml defines {', '.join(sorted(suites))}")
    suite = suites[name]
    if overrides:
        suite = Suite.model_validate({**suite.model_dump(), **overrides})
    out.mkdir(parents=True, exist_ok=True)
    results = Results(out / "results.json", name, suite, resume)
    planned = entries(suite, models, presets)
    finished = results.done({entry["key"]: entry["fingerprint"] for entry in planned})
    todo = [entry for entry in planned if entry["key"] not in finished]
    by_key = {entry["key"]: entry for entry in todo}
    calls = [(entry["key"], (entry, suite, out, data_dir)) for entry in todo]
    try:
        for key, record in run_jobs(run_entry, calls, executor or ExecutorOptions(), out / "jobs", suite.budget_s):
            entry = by_key[key]
            record = {**{k: entry[k] for k in ("key", "model", "preset", "seed", "precision", "processes",
                                               "fingerprint") if k in entry}, **record}
            results.add(record)
            if on_record is not None:  # the record, and the environment results.json holds for the suite
                on_record(record, results.data.get("environment", {}))
            if record["status"] == "interrupted":  # the user stopped the suite: no further entries start
                raise BenchInterrupted(f"stopped at {key} ({record['error']}); continue with the same command and "
                                       f"--resume --out {out}")
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM while jobs ran: each job was stopped at a checkpoint
        raise BenchInterrupted(f"stopped ({stop or 'Ctrl-C'}); the entries that were running stopped at a "
                               f"checkpoint, and --resume continues them: the same command with --resume --out {out}"
                               ) from None
    return results.data


__all__ = ["BenchError", "BenchInterrupted", "Reference", "Suite", "load_suites", "run_suite"]
