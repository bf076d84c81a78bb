"""Committed seed records: the per-run numbers every published table is regenerated from.

Papers With Code and StudioGAN keep the per-run numbers behind their tables; so do we. One record is
one finished suite entry (a preset × seed), as a small JSON file inside the package
(``ganzoo/harness/suites/records/SUITE/ENTRY.json``), so a wheel install has them too:

- what was measured: the scored generator's metrics, the other generator's beside them, the metric
  protocols (extractor and its weights' sha256), the evaluation curve and the loss curve;
- how: suite, preset, the preset's fingerprint, seed, steps, status, the resolved precision;
- where: ganzoo/torch/Python versions, the machine (CPU model, native bf16, cores, device).

``ganzoo bench --records DIR`` writes them as entries finish; ``ganzoo bench --tables-only``
rebuilds a suite's leaderboard from them alone; ``ganzoo bench --compare`` re-runs entries and says
whether they land on (or within the spread of) the committed ones. Machine-local paths are left out.
"""

from __future__ import annotations

import json
import math
import statistics
from importlib import resources
from pathlib import Path
from typing import Any

from ..contract.errors import RecordError
from ..report.rundir import write_json_atomic

FORMAT = "ganzoo-bench-record"
VERSION = 1
#: record fields kept from a results.json record (``run_dir``, ``ran.pid``, tracebacks stay local)
KEPT = ("key", "model", "preset", "seed", "precision", "processes", "fingerprint", "status", "dataset", "generator",
        "metrics", "metrics_by_generator", "protocol", "throughput", "counters", "steps", "steps_planned", "stopped",
        "seconds", "over_budget", "reason", "error")


def packaged_root() -> Path:
    """The records shipped with ganzoo (package data of ``ganzoo.harness.suites``)."""
    return Path(str(resources.files("ganzoo.harness.suites").joinpath("records")))


def file_name(key: str) -> str:
    """``wgan-gp/ring@seed0`` → ``wgan-gp_ring@seed0.json`` (one flat folder per suite)."""
    return key.replace("/", "_") + ".json"


def _history(run_dir: str | None) -> dict[str, list[dict[str, Any]]]:
    """The run's evaluations (step, train_seconds, metrics) and losses per log record, from metrics.jsonl."""
    path = Path(run_dir or "") / "metrics.jsonl"
    if not run_dir or not path.is_file():
        return {"evaluations": [], "losses": []}
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    evaluations = [{key: r[key] for key in ("step", "train_seconds", "metrics") if key in r}
                   for r in lines if isinstance(r.get("metrics"), dict) and r["metrics"]]
    losses = [{"step": r["step"], "losses": r["losses"]} for r in lines if isinstance(r.get("losses"), dict)]
    return {"evaluations": evaluations, "losses": losses}


def run_precision(run_dir: str | None) -> dict[str, Any] | None:
    path = Path(run_dir or "") / "config.json"
    if not run_dir or not path.is_file():
        return None
    return json.loads(path.read_text()).get("precision")


def make_record(suite: str, record: dict[str, Any], environment: dict[str, Any]) -> dict[str, Any]:
    """A committed record from a results.json record (and its run directory's curves)."""
    kept = {key: record[key] for key in KEPT if key in record}
    return {"format": FORMAT, "version": VERSION, "suite": suite, **kept,
            "resolved_precision": run_precision(record.get("run_dir")), "history": _history(record.get("run_dir")),
            "environment": environment}


def write_record(folder: Path, suite: str, record: dict[str, Any], environment: dict[str, Any]) -> Path:
    """Write one entry's record into ``folder/SUITE/``; returns its path."""
    path = Path(folder) / suite / file_name(record["key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, make_record(suite, record, environment))
    return path


def read_records(suite: str, folder: Path | None = None) -> list[dict[str, Any]]:
    """Every committed record of ``suite`` (sorted by key), from ``folder`` or the packaged records."""
    directory = Path(folder or packaged_root()) / suite
    records = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            record = json.loads(path.read_text())
        except ValueError as error:
            raise RecordError(f"{path} is not valid JSON ({error}); restore it from git") from None
        if record.get("format") != FORMAT or record.get("suite") != suite:
            raise RecordError(f"{path} is not a ganzoo bench record of suite {suite!r}")
        records.append(record)
    return records


def suites_with_records(folder: Path | None = None) -> list[str]:
    root = Path(folder or packaged_root())
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.json"))) if root.is_dir() else []


def results_from_records(suite_name: str, suite: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``results.json``-shaped data a leaderboard is drawn from, rebuilt from committed records.

    The suite's text, references and notes come from registry.toml as it is now; the environment is
    the one the records share (or, when they differ, the first one's with the list of machines)."""
    from .runner import Results

    order = {preset: i for i, preset in enumerate(suite.presets)}
    records = sorted(records, key=lambda r: (order.get(r.get("preset"), len(order)), r.get("seed", 0), r["key"]))
    environments = [r.get("environment") or {} for r in records]
    machines = sorted({_machine(env) for env in environments})
    environment = dict(environments[0]) if environments else {}
    if len(machines) > 1:
        environment["machines"] = machines
    return {"suite": suite_name, **Results._metadata(suite), "environment": environment,
            "records": records, "from_records": True}


def _machine(environment: dict[str, Any]) -> str:
    bf16 = environment.get("cpu_native_bf16")
    native = "" if bf16 is None else (f", native bf16 ({', '.join(bf16)})" if bf16 else ", no native bf16")
    return (f"{environment.get('cpu_model') or environment.get('device_name', '?')}, "
            f"{environment.get('cpu_count', '?')} cores{native}, torch {environment.get('torch', '?')}")


def machine_line(environment: dict[str, Any]) -> str:
    """The machine of a table, with the CPU's bf16 support beside every figure measured on it."""
    if environment.get("machines"):
        return "Machines: " + "; ".join(environment["machines"]) + "."
    device = environment.get("device", "cpu")
    gpu = f", GPU {environment.get('device_name')}" if device != "cpu" else ""
    return f"Machine: {_machine(environment)}{gpu}, device {device}."


# -- re-checking a row ----------------------------------------------------------------------------------
def _value(metrics: dict[str, Any], metric: str) -> float | None:
    try:
        value = float(metrics.get(metric))
    except (TypeError, ValueError):
        return None
    return value


def compare(new: dict[str, Any], committed: list[dict[str, Any]], metrics: list[str]) -> dict[str, Any]:
    """How a re-run entry lands against the committed records of its preset.

    Per metric: ``identical`` when it equals the committed record of the same seed bit for bit; else
    ``within`` when it lies inside the committed seeds' spread (their range widened by two standard
    deviations, so three seeds do not make the band too narrow), else ``outside``. The entry passes
    when no metric is outside."""
    same_seed = next((r for r in committed if r.get("seed") == new.get("seed")), None)
    verdicts: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        ours = _value(new.get("metrics") or {}, metric)
        if ours is None:
            continue
        theirs = [v for r in committed if (v := _value(r.get("metrics") or {}, metric)) is not None]
        same = _value(same_seed.get("metrics") or {}, metric) if same_seed else None
        verdict: dict[str, Any] = {"value": ours, "committed_same_seed": same}
        if same is not None and (ours == same or (math.isnan(ours) and math.isnan(same))):
            verdict["verdict"] = "identical"
        elif theirs:
            finite = [v for v in theirs if math.isfinite(v)]
            spread = 2 * statistics.stdev(finite) if len(finite) > 1 else 0.0
            low, high = (min(finite) - spread, max(finite) + spread) if finite else (math.inf, -math.inf)
            verdict.update(band=[low, high], seeds=len(theirs),
                           verdict="within" if low <= ours <= high or ours in theirs else "outside")
        else:
            verdict["verdict"] = "no committed record"
        verdicts[metric] = verdict
    passed = all(v["verdict"] in ("identical", "within") for v in verdicts.values()) and bool(verdicts)
    return {"key": new.get("key"), "status": new.get("status"), "metrics": verdicts, "passed": passed,
            "bit_exact": bool(verdicts) and all(v["verdict"] == "identical" for v in verdicts.values())}
