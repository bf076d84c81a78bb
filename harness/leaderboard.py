"""Leaderboards from a bench ``results.json``: terminal table, Markdown, PNG plots.

Our number, the published reference and its source sit in adjacent columns, with the gap
stated; several seeds are shown as mean ± std. Rows are grouped by preset (or model, for smoke
suites), never mixing two protocols in one column.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

PERCENT = {"hq_fraction"}  # shown ×100 with a % sign, as the papers print them


def _fmt(value: float, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric in PERCENT:
        return f"{100 * value:.1f}%"
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"
    return f"{value:.3g}"


def _number(value) -> float | None:
    """results.json stores inf/nan as strings (JSON has neither)."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _mean_std(values: list[float], metric: str) -> str:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return "∞" if values else "–"
    mean = statistics.fmean(finite)
    text = _fmt(mean, metric) if len(finite) == 1 else f"{_fmt(mean, metric)} ± {_fmt(statistics.stdev(finite), metric)}"
    infinite = len(values) - len(finite)
    return f"{text} (+{infinite} × ∞)" if infinite else text


def group(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record.get("preset") or record["model"], []).append(record)
    return groups


def rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per preset: aggregated metrics, throughput, matching references."""
    metrics = data.get("metrics") or []
    out = []
    for name, records in group(data["records"]).items():
        ok = [r for r in records if r["status"] == "ok"]
        row: dict[str, Any] = {"entry": name, "model": records[0]["model"],
                               "dataset": next((r.get("dataset") for r in records if r.get("dataset")), "?"),
                               "seeds": len(records), "ok": len(ok),
                               "status": "ok" if len(ok) == len(records) else
                               "; ".join(sorted({r.get("error", r["status"])[:120] for r in records if r["status"] != "ok"}))}
        for metric in metrics:
            values = [_number(r["metrics"].get(metric)) for r in ok if metric in r.get("metrics", {})]
            values = [v for v in values if v is not None]
            row[metric] = _mean_std(values, metric)
            row[f"_{metric}_mean"] = statistics.fmean(values) if values and all(map(math.isfinite, values)) else None
        speeds = [r["throughput"]["images_per_s"] for r in ok]
        row["images/s"] = f"{statistics.fmean(speeds):.0f}" if speeds else "–"
        row["minutes"] = f"{statistics.fmean(r['seconds'] for r in records) / 60:.1f}"
        row["_protocol"] = protocol_signature(ok, metrics)
        row["references"] = [ref for ref in data.get("references", [])
                             if ref["dataset"] == row["dataset"] and ref.get("model") == row["model"]]
        out.append(row)
    return out


def gap(ours: float | None, reference: float, metric: str) -> str:
    if ours is None:
        return "–"
    delta = ours - reference
    return f"{'+' if delta >= 0 else '−'}{_fmt(abs(delta), metric)}"


def _table_rows(members: list[dict[str, Any]], metrics: list[str]) -> list[str]:
    lines = []
    for row in members:
        refs = row["references"] or [None]
        for index, ref in enumerate(refs):
            ours = [row[m] for m in metrics] if index == 0 else ["″"] * len(metrics)
            ref_cells = ([f"{ref['row']} ({ref['source']})"] + [_fmt(ref["values"].get(m), m) if m in ref["values"]
                                                                 else "–" for m in metrics]
                         + [gap(row[f"_{m}_mean"], ref["values"][m], m) if m in ref["values"] else "–"
                            for m in metrics]) if ref else ["none"] + ["–"] * (2 * len(metrics))
            seeds = f"{row['ok']}/{row['seeds']}" if index == 0 else ""
            lines.append("| " + " | ".join([row["entry"] if index == 0 else "", row["dataset"] if index == 0 else "",
                                            seeds, *ours, row["images/s"] if index == 0 else "",
                                            row["minutes"] if index == 0 else "", *ref_cells]) + " |")
    return lines


def protocol_signature(records: list[dict[str, Any]], metrics: list[str]) -> str:
    """The protocol of a row's metric values, without per-seed fields; rows that differ get separate tables."""
    for record in records:
        protocols = record.get("protocol") or {}
        fields = {}
        for metric in metrics:
            for key, value in (protocols.get(metric) or {}).items():
                if key not in ("seed", "metric") and value is not None:
                    fields[key] = value
        if fields:
            return ", ".join(f"{k}={v}" for k, v in sorted(fields.items()))
    return ""


def markdown(data: dict[str, Any], title: str | None = None) -> str:
    metrics = data.get("metrics") or []
    env = data.get("environment", {})
    lines = [f"## {title or data['suite']}", "", data.get("description", ""), "",
             f"Machine: {env.get('platform', '?')}, {env.get('cpu_count', '?')} CPU cores, torch {env.get('torch', '?')}, "
             f"device {env.get('device', '?')}.", ""]
    header = ["entry", "dataset", "seeds", *metrics, "images/s", "min/run", "reference (source)",
              *[f"ref {m}" for m in metrics], *[f"gap {m}" for m in metrics]]
    # numbers computed under different protocols never share a column: one table per protocol
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows(data):
        groups.setdefault(row["_protocol"], []).append(row)
    for number, (protocol, members) in enumerate(groups.items(), 1):
        if len(groups) > 1:
            lines += ["", f"Protocol {number}: {protocol or 'no metric protocol recorded'}", ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += _table_rows(members, metrics)
    failures = [r for r in rows(data) if r["status"] != "ok"]
    failures = [r for r in rows(data) if r["status"] != "ok"]
    if failures:
        lines += ["", "Entries with failures: " + "; ".join(f"{r['entry']}: {r['status']}" for r in failures)]
    others = [ref for ref in data.get("references", []) if ref.get("model") is None]
    if others:
        lines += ["", "Other published rows for context:", "",
                  "| row | source | dataset | " + " | ".join(metrics) + " |", "|" + "---|" * (3 + len(metrics))]
        for ref in others:
            lines.append(f"| {ref['row']} | {ref['source']} | {ref['dataset']} | " + " | ".join(
                _fmt(ref["values"][m], m) if m in ref["values"] else "–" for m in metrics) + " |")
    return "\n".join(lines) + "\n"


def plots(data: dict[str, Any], folder: Path) -> list[Path]:
    """Bars of every leaderboard metric and of throughput, one PNG each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    table = rows(data)
    written = []
    for metric in [*(data.get("metrics") or []), "images/s"]:
        names, values = [], []
        for row in table:
            value = row.get(f"_{metric}_mean") if metric != "images/s" else (
                float(row["images/s"]) if row["images/s"] != "–" else None)
            if value is not None:
                names.append(row["entry"])
                values.append(100 * value if metric in PERCENT else value)
        if not names:
            continue
        fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(names) + 2), 3.5), dpi=100)
        ax.bar(names, values, color="tab:blue")
        ax.set_title(f"{data['suite']}: {metric}{' (%)' if metric in PERCENT else ''}")
        ax.tick_params(axis="x", rotation=30)
        fig.tight_layout()
        path = folder / f"{data['suite']}-{metric.replace('/', '_per_')}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
