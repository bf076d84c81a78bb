"""Leaderboards from a bench ``results.json``: terminal table, Markdown, PNG plots.

Our number, the published reference and its source sit in adjacent columns, with the gap
stated; several seeds are shown as mean ± std. Rows are grouped by preset (or model, for smoke
suites), never mixing two protocols in one column. Entries stopped at their time budget count
with what they reached and are named under the table; skipped entries are listed with the
reason. Throughput suites get their own table (:func:`throughput_markdown`): images/s per preset ×
precision × processes, each row with the per-phase step times and peak memory the harness measured
and its speed-up over the same preset in fp32 with one process, so the gain of bf16 or of a second
process reads off directly; published speeds (other hardware, other settings) are listed below it
for context only. :func:`markdown` picks the table for a suite's kind.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from .agreement import agreement_lines
from .budgets import budget_markdown

PERCENT = {"hq_fraction"}  # shown ×100 with a % sign, as the papers print them
SCORED = ("ok", "time-limit")  # statuses whose metrics enter the table


def _fmt(value: float, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric in PERCENT:
        return f"{100 * value:.1f}%"
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"
    return f"{value:.3g}"


def _published(value: float, metric: str) -> str:
    """A reference number as the paper prints it (no rounding: 48.29 stays 48.29)."""
    return f"{100 * value:.4g}%" if metric in PERCENT else f"{value:g}"


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
        ok = [r for r in records if r["status"] in SCORED]
        row: dict[str, Any] = {"entry": name, "model": records[0]["model"],
                               "dataset": next((r.get("dataset") for r in records if r.get("dataset")), "?"),
                               "seeds": len(records), "ok": len(ok),
                               "status": "ok" if all(r["status"] == "ok" for r in records) else
                               "; ".join(sorted({_problem(r) for r in records if r["status"] != "ok"}))}
        for metric in metrics:
            values = [_number(r["metrics"].get(metric)) for r in ok if metric in r.get("metrics", {})]
            values = [v for v in values if v is not None]
            row[metric] = _mean_std(values, metric)
            finite = values and all(map(math.isfinite, values))
            row[f"_{metric}_mean"] = statistics.fmean(values) if finite else None
            row[f"_{metric}_std"] = statistics.stdev(values) if finite and len(values) > 1 else 0.0
        speeds = [r["throughput"]["images_per_s"] for r in ok]
        row["images/s"] = f"{statistics.fmean(speeds):.0f}" if speeds else "–"
        row["minutes"] = f"{statistics.fmean(r['seconds'] for r in records) / 60:.1f}"
        row["_protocol"] = protocol_signature(ok, metrics)
        row["references"] = [ref for ref in data.get("references", []) if _matches(ref, row)]
        out.append(row)
    return out


def _matches(reference: dict[str, Any], row: dict[str, Any]) -> bool:
    from .runner import Reference

    return Reference.model_validate(reference).matches(row["entry"], row["model"], row["dataset"])


def _problem(record: dict[str, Any]) -> str:
    """What went wrong with one entry, in a line."""
    if record["status"] == "skipped":
        return f"skipped: {record.get('reason', '')}"
    if record["status"] == "time-limit":
        return f"stopped at the time budget: {record.get('stopped', '')}"
    return str(record.get("error", record["status"])).splitlines()[0]  # whole: a reason cut mid-word says nothing


def gap(ours: float | None, reference: float, metric: str) -> str:
    if ours is None:
        return "–"
    delta = ours - reference
    return f"{'+' if delta >= 0 else '−'}{_fmt(abs(delta), metric)}"


def _table_rows(members: list[dict[str, Any]], metrics: list[str], with_references: bool = True) -> list[str]:
    lines = []
    for row in members:
        if not with_references:
            lines.append("| " + " | ".join([row["entry"], row["dataset"], f"{row['ok']}/{row['seeds']}",
                                            *[row[m] for m in metrics], row["images/s"], row["minutes"]]) + " |")
            continue
        refs = row["references"] or [None]
        for index, ref in enumerate(refs):
            ours = [row[m] for m in metrics] if index == 0 else ["″"] * len(metrics)
            ref_cells = ([f"{ref['row']} ({ref['source']})"] + [_published(ref["values"][m], m) if m in ref["values"]
                                                                 else "–" for m in metrics]
                         + [gap(row[f"_{m}_mean"], ref["values"][m], m) if m in ref["values"] else "–"
                            for m in metrics]) if ref else ["none"] + ["–"] * (2 * len(metrics))
            seeds = f"{row['ok']}/{row['seeds']}" if index == 0 else ""
            lines.append("| " + " | ".join([row["entry"] if index == 0 else "", row["dataset"] if index == 0 else "",
                                            seeds, *ours, row["images/s"] if index == 0 else "",
                                            row["minutes"] if index == 0 else "", *ref_cells]) + " |")
    return lines


def protocol_signature(records: list[dict[str, Any]], metrics: list[str]) -> str:
    """The protocol of a row's metric values, without per-seed fields; rows that differ get separate tables.
    A field that differs between metrics is spelled out per metric (k=3 for precision, 5 for density)."""
    for record in records:
        protocols = record.get("protocol") or {}
        fields: dict[str, dict[str, list[str]]] = {}  # field → value → the metrics that use it
        for metric in metrics:
            for key, value in (protocols.get(metric) or {}).items():
                if key not in ("seed", "metric") and value is not None:
                    fields.setdefault(key, {}).setdefault(str(value), []).append(metric)
        if fields:
            parts = []
            for key, values in sorted(fields.items()):
                if len(values) == 1:
                    parts.append(f"{key}={next(iter(values))}")
                else:
                    parts.append(f"{key}=" + ", ".join(f"{value} ({'/'.join(users)})" for value, users in values.items()))
            return "; ".join(parts)
    return ""


def quality_markdown(data: dict[str, Any], title: str | None = None) -> str:
    """The leaderboard of a quality suite (:func:`markdown` picks it by suite kind)."""
    metrics = data.get("metrics") or []
    table = rows(data)
    lines = header_lines(data, title)
    with_references = any(row["references"] for row in table)
    header = ["entry", "dataset", "seeds", *metrics, "images/s", "min/run"]
    if with_references:
        header += ["reference (source)", *[f"ref {m}" for m in metrics], *[f"gap {m}" for m in metrics]]
    # numbers computed under different protocols never share a column: one table per protocol
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in table:
        if row["ok"]:
            groups.setdefault(row["_protocol"], []).append(row)
    for number, (protocol, members) in enumerate(groups.items(), 1):
        if len(groups) > 1:
            lines += ["", f"Protocol {number}: {protocol or 'no metric protocol recorded'}", ""]
        elif protocol:
            lines += [f"Protocol: {protocol}", ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += _table_rows(members, metrics, with_references)
    lines += unit_lines(data, metrics)
    lines += other_generator_lines(data)
    lines += budget_markdown(data)
    lines += agreement_lines(data)
    lines += preset_notes(data)
    lines += note_lines(data)
    others = [ref for ref in data.get("references", []) if not any(_matches(ref, row) for row in table if row["ok"])]
    if others:
        lines += ["", "Other published rows for context:", "",
                  "| row | source | dataset | " + " | ".join(metrics) + " |", "|" + "---|" * (3 + len(metrics))]
        for ref in others:
            lines.append(f"| {ref['row']} | {ref['source']} | {ref['dataset']} | " + " | ".join(
                _published(ref["values"][m], m) if m in ref["values"] else "–" for m in metrics) + " |")
    return "\n".join(lines) + "\n"


UNITS = {
    "fid": "Fréchet distance between Gaussian fits of the features: squared feature units (lower is better)",
    "kid": "kernel inception distance, unbiased MMD² with the cubic polynomial kernel on the same features: "
           "squared feature units, as a raw value (not ×10³; lower is better)",
}


def unit_lines(data: dict[str, Any], metrics: list[str]) -> list[str]:
    """What FID and KID are measured in, naming the feature network: a classifier-FID is not an Inception FID."""
    lines = []
    for metric in (m for m in metrics if m in UNITS):
        extractors = sorted({f"{p.get('extractor')} (weights sha256 {str(p.get('weights_sha256'))[:12]}…)"
                             for r in data.get("records", []) if r.get("status") in SCORED
                             for p in [(r.get("protocol") or {}).get(metric) or {}] if p.get("extractor")})
        if not extractors:
            continue
        prefix = "classifier-" if all(not e.startswith("inception") for e in extractors) else ""
        lines.append(f"- {metric}: {prefix}{metric.upper()} in the features of {', '.join(extractors)}; {UNITS[metric]}.")
    return ["", "Units:", "", *lines] if lines else []


def header_lines(data: dict[str, Any], title: str | None) -> list[str]:
    from .seed_records import machine_line

    source = ([f"Regenerated from the committed seed records in `harness/suites/records/{data['suite']}/` "
               f"(`ganzoo bench --tables-only --suite {data['suite']}`)."] if data.get("from_records") else [])
    return [f"## {title or data['suite']}", "", data.get("description", ""), "", *source,
            machine_line(data.get("environment", {}))
            + (f" Time budget per entry: {data['budget_s']:g} s." if data.get("budget_s") else ""), ""] \
        + generator_lines(data)


def generator_lines(data: dict[str, Any]) -> list[str]:
    """Which generator the numbers score: the trained weights, or their average (an EMA is another model)."""
    labels = {"raw": "the trained generator (raw weights)", "ema": "the generator's EMA (a weight average)"}
    used = sorted({r.get("generator") for r in data.get("records", []) if r.get("generator")})
    if not used:
        return []
    if len(used) == 1:
        return [f"Scored generator: {labels.get(used[0], used[0])} for every row.", ""]
    rows = ", ".join(f"{r['key']}: {r['generator']}" for r in data["records"] if r.get("generator"))
    return [f"Scored generators differ between rows ({rows}).", ""]


def other_generator_lines(data: dict[str, Any]) -> list[str]:
    """The same runs' other generator (the EMA when the table scores the trained G, or the reverse), in its
    own labelled table: a weight average is a different model, shown beside, never in place of, the scored one."""
    metrics = data.get("metrics") or []
    by_preset: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for record in data["records"]:
        scored, both = record.get("generator"), record.get("metrics_by_generator") or {}
        other = next((label for label in ("ema", "raw") if label != scored and both.get(label)), None)
        if record["status"] in SCORED and other:
            by_preset.setdefault(record.get("preset") or record["model"], []).append((other, both[other]))
    if not by_preset:
        return []
    labels = {label for entries in by_preset.values() for label, _ in entries}
    title = ("the generator's EMA (a weight average, not the trained model)" if labels == {"ema"}
             else "the other generator of each run")
    lines = ["", f"The same runs scored through {title}:", "",
             "| entry | generator | seeds | " + " | ".join(metrics) + " |", "|" + "---|" * (3 + len(metrics))]
    for preset, entries in by_preset.items():
        cells = [_mean_std([v for _, m in entries if (v := _number(m.get(metric))) is not None], metric)
                 for metric in metrics]
        lines.append(f"| {preset} | {entries[0][0]} | {len(entries)} | " + " | ".join(cells) + " |")
    return lines


def preset_notes(data: dict[str, Any]) -> list[str]:
    """The suite's notes on its rows (registry.toml ``notes``): why a row misses, what was tried."""
    notes = data.get("notes") or {}
    if not notes:
        return []
    return ["", "Notes on the rows:", "", *[f"- **{preset}**: {text}" for preset, text in notes.items()]]


def note_lines(data: dict[str, Any]) -> list[str]:
    """Entries that were skipped, stopped at their budget or failed, each with its reason."""
    notes: dict[str, list[str]] = {}
    for record in data["records"]:
        if record["status"] != "ok":
            notes.setdefault(_problem(record), []).append(record["key"])
    if not notes:
        return []
    lines = ["", "Not (fully) run:", ""]
    for problem, keys in notes.items():
        lines.append(f"- {', '.join(keys)}: {problem}")
    return lines


def write_section(path: Path, suite: str, text: str) -> None:
    """Put ``text`` into ``path`` between this suite's markers, replacing the last version and keeping
    everything else (the hand-written reading of the gaps, the other suites); append it if absent."""
    begin, end = f"<!-- bench:{suite} -->", f"<!-- /bench:{suite} -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    document = path.read_text() if path.exists() else ""
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        document = head + block + rest.split(end, 1)[1]
    else:
        document = (document.rstrip() + "\n\n" if document.strip() else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document)


def markdown(data: dict[str, Any], title: str | None = None) -> str:
    """The Markdown leaderboard of any suite: the table kind follows the suite kind."""
    if data.get("kind") == "throughput":
        return throughput_markdown(data, title)
    return quality_markdown(data, title)


# -- the leaderboard of a ``throughput`` suite ---------------------------------------------------------
THROUGHPUT_COLUMNS = ["preset", "precision", "processes", "global batch", "images/s", "ms/D step", "ms/G step", "peak MB",
           "AMP skipped", "× fp32·1", "steps"]


def _cell(value: float | None, digits: str = ".0f") -> str:
    return "–" if value is None else format(value, digits)


def _phase_ms(throughput: dict[str, Any], exclude: str) -> float | None:
    """ms per step of the discriminator-side phase, whatever the plugin named it (discriminator, critic, …)."""
    times = [value for key, value in throughput.items() if key.startswith("ms_per_") and key.endswith("_step")
             and key != f"ms_per_{exclude}_step"]
    return sum(times) / len(times) if times else None


def throughput_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    measured = [r for r in data["records"] if r["status"] in ("ok", "time-limit")]
    baseline = {r["preset"]: r["throughput"]["images_per_s"] for r in measured
                if r.get("precision") == "fp32" and r.get("processes") == 1}
    out = []
    for r in measured:
        t = r["throughput"]
        base = baseline.get(r["preset"])
        out.append({"preset": r["preset"], "precision": r["precision"], "processes": str(r["processes"]),
                    "global batch": str(t.get("global_batch_size", "–")), "images/s": _cell(t.get("images_per_s")),
                    "ms/D step": _cell(_phase_ms(t, exclude="generator"), ".1f"),
                    "ms/G step": _cell(t.get("ms_per_generator_step"), ".1f"),
                    "peak MB": _cell(t.get("peak_memory_mb")), "AMP skipped": str(r.get("amp_skipped", 0)),
                    "× fp32·1": f"{t['images_per_s'] / base:.2f}" if base else "–",
                    "steps": str(r.get("steps", "–")), "_images_per_s": t.get("images_per_s")})
    return out


def throughput_markdown(data: dict[str, Any], title: str | None = None) -> str:
    lines = header_lines(data, title)
    lines += ["| " + " | ".join(THROUGHPUT_COLUMNS) + " |", "|" + "---|" * len(THROUGHPUT_COLUMNS)]
    lines += ["| " + " | ".join(row[c] for c in THROUGHPUT_COLUMNS) + " |" for row in throughput_rows(data)]
    lines += note_lines(data)
    references = data.get("references", [])
    if references:
        keys = sorted({key for ref in references for key in ref["values"]})
        lines += ["", "Published speeds for context (other hardware and settings; not a gap to close here):", "",
                  "| row | source | dataset | " + " | ".join(keys) + " |", "|" + "---|" * (3 + len(keys))]
        for ref in references:
            lines.append(f"| {ref['row']} | {ref['source']} | {ref['dataset']} | "
                         + " | ".join(f"{ref['values'][k]:g}" if k in ref["values"] else "–" for k in keys) + " |")
    return "\n".join(lines) + "\n"
