"""Equal-budget comparisons: one metric read off each run's evaluation curve at a common number of
iterations and at a common training time.

Models that take five critic steps per generator step (WGAN, WGAN-GP, SNGAN) make fewer generator
updates in the same wall time than DCGAN, and more wall time per generator update. A table at the end
of each run mixes both effects; these two columns separate them. In every zoo model an iteration is
one generator update (critic steps repeat inside it), so equal iterations are equal G updates.

Values come from ``metrics.jsonl``: an evaluation at exactly the asked iteration (the suite's presets
evaluate on a common ``eval_every``), and the last evaluation whose ``train_seconds`` (training time,
evaluations excluded) is within the asked time. Several seeds are averaged.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any


def history(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The evaluation records of one entry's run: its committed record's curve, else ``metrics.jsonl``."""
    if isinstance(record.get("history"), dict):
        return list(record["history"].get("evaluations") or [])
    path = Path(record.get("run_dir") or "") / "metrics.jsonl"
    if not record.get("run_dir") or not path.is_file():
        return []
    lines = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return [r for r in lines if isinstance(r.get("metrics"), dict) and r["metrics"]]


def _value(record: dict[str, Any], metric: str) -> float | None:
    """A number, also when JSON holds it as a string ("inf": JSON has no infinity)."""
    value = record["metrics"].get(metric)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def at_step(evaluations: list[dict[str, Any]], metric: str, step: int) -> float | None:
    """The metric evaluated at exactly ``step`` iterations, or None when the run has no evaluation there."""
    return next((_value(r, metric) for r in reversed(evaluations) if r["step"] == step), None)


def within_seconds(evaluations: list[dict[str, Any]], metric: str, seconds: float) -> tuple[float, int] | None:
    """The last evaluation within ``seconds`` of training: (value, its iteration), or None."""
    timed = [r for r in evaluations if isinstance(r.get("train_seconds"), (int, float)) and r["train_seconds"] <= seconds]
    for record in reversed(timed):
        value = _value(record, metric)
        if value is not None:
            return value, record["step"]
    return None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def budget_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per preset: the metric's mean at each budget, and the iterations reached within each time budget."""
    budgets = data.get("budgets") or {}
    metric = budgets.get("metric")
    if not metric:
        return []
    by_preset: dict[str, list[dict[str, Any]]] = {}
    for record in data["records"]:
        if record["status"] in ("ok", "time-limit"):
            by_preset.setdefault(record.get("preset") or record["model"], []).append(record)
    rows = []
    for preset, records in by_preset.items():
        curves = [history(r) for r in records]
        row: dict[str, Any] = {"entry": preset, "seeds": len(records)}
        for step in budgets.get("at_steps") or []:
            values = [v for c in curves if (v := at_step(c, metric, step)) is not None]
            row[f"step:{step}"], row[f"n:step:{step}"] = _mean(values), len(values)
        for seconds in budgets.get("at_seconds") or []:
            found = [hit for c in curves if (hit := within_seconds(c, metric, seconds)) is not None]
            row[f"seconds:{seconds:g}"], row[f"n:seconds:{seconds:g}"] = _mean([value for value, _ in found]), len(found)
            row[f"reached:{seconds:g}"] = sorted({step for _, step in found})
        rows.append(row)
    return rows


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _ratio(value: float | None, baseline: float | None) -> str:
    if value is None or not baseline or not math.isfinite(baseline):
        return "–"
    return f"{value / baseline:.2f}×"


def budget_markdown(data: dict[str, Any]) -> list[str]:
    """The equal-budget table (empty when the suite asks for none)."""
    budgets = data.get("budgets") or {}
    rows = budget_rows(data)
    if not rows:
        return []
    metric, baseline = budgets["metric"], budgets.get("baseline")
    base = next((row for row in rows if row["entry"] == baseline), None)
    header, keys = ["entry", "seeds"], []
    for step in budgets.get("at_steps") or []:
        header += [f"{metric} at {step} iterations"] + ([f"÷ {baseline}"] if base else [])
        keys.append(f"step:{step}")
    for seconds in budgets.get("at_seconds") or []:
        header += [f"{metric} within {seconds:g} s of training", "iterations by then"] \
            + ([f"÷ {baseline}"] if base else [])
        keys.append(f"seconds:{seconds:g}")
    lines = ["", f"Equal budgets: {metric} at the same number of iterations (one generator update each, critic "
             "steps inside it) and after the same training time (evaluations excluded; timed on a shared machine, "
             "so ±20 %). Read off each run's evaluation curve; the plots show the whole curves."
             + (f" Ratios divide by {baseline}'s value at the same budget." if base else ""), "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["entry"], str(row["seeds"])]
        for key in keys:
            counted = row[f"n:{key}"]  # a mean over fewer seeds than the row has says so
            cells.append(_fmt(row[key]) + (f" ({counted}/{row['seeds']} seeds)" if 0 < counted < row["seeds"] else ""))
            if key.startswith("seconds:"):
                cells.append(", ".join(map(str, row[f"reached:{key.split(':')[1]}"])) or "–")
            if base:
                cells.append(_ratio(row[key], base[key]))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


__all__ = ["at_step", "budget_markdown", "budget_rows", "history", "within_seconds"]
