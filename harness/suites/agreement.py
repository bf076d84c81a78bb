"""How far a protocol suite's table agrees with its paper's: the three targets of a positive control.

A mode-collapse benchmark is only useful where it reproduces the literature's direction. Under a
protocol table, for each dataset, this says (issue #25, item 4):

- **sign**: for each of the paper's methods, on how many seeds its modes minus the baseline's (same seed)
  has the sign the paper reports; the target is at least 2 of 3 seeds (two thirds, rounded up);
- **Spearman ρ** between our rows' mean modes and the paper's (average ranks for ties); target ≥ 0.6;
- **cells**: the share of (row, metric) values within max(2 × our seed std, 20 % of the published value)
  of the published one; target ≥ 60 %.

Each row is matched to the first published row from one of ``agreement.sources`` that names its preset.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SIGN_SHARE, SPEARMAN_TARGET, CELL_SHARE = 2 / 3, 0.6, 0.6


class Agreement(BaseModel):
    """``[suites.NAME.agreement]``: the paper a protocol suite reproduces, and its baselines."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(min_length=1, description=(
        "The paper's table (or tables), as the references' `source` starts, e.g. 'PacGAN (Lin et al. 2018) Table 1'"))
    baselines: list[str] = Field(description="The baseline preset of each dataset (the row the methods must beat)")
    metric: str = Field("modes_captured", description="The metric whose sign and ordering are compared")
    cell_metrics: list[str] = Field(default_factory=list, description=(
        "Metrics whose cells are compared with the published values (default: the suite's metrics)"))


def signed(value: float) -> str:
    """+3 or −3: with the minus sign the docs use (U+2212), not a hyphen."""
    return f"{value:+g}".replace("-", "\u2212")


def average_ranks(values: list[float]) -> list[float]:
    """Ranks 1..n, ties sharing the mean of their positions (as Spearman's ρ with ties needs)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(ours: list[float], published: list[float]) -> float | None:
    """Pearson correlation of the average ranks; None when either side has no spread."""
    a, b = average_ranks(ours), average_ranks(published)
    if len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return statistics.correlation(a, b)


def within(ours: float, std: float, published: float) -> bool:
    return abs(ours - published) <= max(2 * std, 0.2 * abs(published))


def _by_seed(records: list[dict[str, Any]], metric: str) -> dict[int, float]:
    out = {}
    for record in records:
        value = (record.get("metrics") or {}).get(metric)
        if record.get("status") == "ok" and isinstance(value, (int, float)) and math.isfinite(value):
            out[record.get("seed", 0)] = float(value)
    return out


def _published_row(agreement: Agreement, references: list[dict[str, Any]], preset: str) -> dict[str, Any] | None:
    return next((ref for ref in references if ref["source"].startswith(tuple(agreement.sources))
                 and preset in (ref.get("presets") or [])), None)


def _mark(ok: bool) -> str:
    return "meets the target" if ok else "**misses the target**"


def agreement_lines(data: dict[str, Any]) -> list[str]:
    """The Markdown lines under a protocol table; none for suites without ``agreement``."""
    if not data.get("agreement"):
        return []
    agreement = Agreement.model_validate(data["agreement"])
    metric, references = agreement.metric, data.get("references") or []
    cell_metrics = agreement.cell_metrics or list(data.get("metrics") or [])
    records_by_preset: dict[str, list[dict[str, Any]]] = {}
    for record in data["records"]:
        records_by_preset.setdefault(record.get("preset") or record["model"], []).append(record)
    values = {(preset, name): _by_seed(records, name) for preset, records in records_by_preset.items()
              for name in {metric, *cell_metrics}}  # preset, metric → seed → value
    paper = " and ".join(agreement.sources)
    lines = ["", f"Agreement with {paper} (the positive-control targets: sign on ≥ 2 of 3 seeds, "
                 f"Spearman ρ ≥ {SPEARMAN_TARGET}, ≥ {CELL_SHARE * 100:.0f} % of cells within max(2 × seed std, 20 % of "
                 "the published value)):", ""]
    for baseline in agreement.baselines:
        base_ref = _published_row(agreement, references, baseline)
        base_seeds = values.get((baseline, metric), {})
        if base_ref is None or metric not in base_ref["values"]:
            lines.append(f"- {baseline}: no published {metric} row of {paper} names it")
            continue
        if not base_seeds:
            lines.append(f"- {base_ref['dataset']}: the baseline {baseline} has no committed records")
            continue
        dataset = base_ref["dataset"]
        rows = [(baseline, base_ref)] + [(preset, ref) for preset in records_by_preset if preset != baseline
                                         and (ref := _published_row(agreement, references, preset)) is not None
                                         and ref["dataset"] == dataset and metric in ref["values"]]
        lines.append(f"- **{dataset}**, baseline `{baseline}` ({base_ref['row']}: {base_ref['values'][metric]:g}; "
                     f"ours {statistics.fmean(base_seeds.values()):.3g}):")
        for preset, ref in rows[1:]:
            published = ref["values"][metric] - base_ref["values"][metric]
            seeds = values[preset, metric]
            paired = sorted(set(seeds) & set(base_seeds))
            deltas = [seeds[s] - base_seeds[s] for s in paired]
            agree = sum(1 for d in deltas if (d > 0) - (d < 0) == (published > 0) - (published < 0))
            need = math.ceil(SIGN_SHARE * len(paired) - 1e-9) if paired else 1
            lines.append(f"  - sign, {ref['row']} (`{preset}`): published {signed(published)}; ours "
                         f"{' / '.join(signed(d) for d in deltas) or 'no paired seeds'} → {agree}/{len(paired)} "
                         f"seeds agree, {_mark(bool(paired) and agree >= need)}")
        means = [statistics.fmean(values[preset, metric].values()) for preset, _ in rows if values[preset, metric]]
        if len(rows) < 3 or len(means) < len(rows):
            lines.append(f"  - Spearman ρ: needs ≥ 3 rows with records ({len(means)} here)")
        else:
            rho = spearman(means, [ref["values"][metric] for _, ref in rows])
            lines.append(f"  - Spearman ρ over {len(rows)} rows: "
                         + ("undefined (no spread on one side)" if rho is None else
                            f"{rho:.2f}, {_mark(rho >= SPEARMAN_TARGET)}"))
        inside = total = 0
        for preset, ref in rows:
            for name in cell_metrics:
                cell = list(values[preset, name].values())
                if name not in ref["values"] or not cell:
                    continue
                std = statistics.stdev(cell) if len(cell) > 1 else 0.0
                total += 1
                inside += within(statistics.fmean(cell), std, ref["values"][name])
        if total:
            lines.append(f"  - cells within tolerance: {inside}/{total} ({inside / total * 100:.0f} %), "
                         f"{_mark(inside / total >= CELL_SHARE)}")
    return lines
