"""PNG plots of a bench suite: bars per metric and for throughput, and curves over training steps.

Bars come from ``results.json`` (or the committed records) alone, with ± one standard deviation
over seeds as error bars. Curves read each entry's committed curves, else its ``metrics.jsonl`` in
its run directory (the first seed of every preset): the losses always, an evaluation metric when the
runs scored it at least twice (``train.eval_every``). Run directories that are gone are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..report.plots import figure
from .leaderboard import PERCENT, SCORED, rows, throughput_rows


def _subplots(*grid: int, figsize: tuple[float, float], **kwargs: Any):
    fig = figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


def _save(fig, path: Path, written: list[Path]) -> None:
    fig.tight_layout()
    fig.savefig(path)
    written.append(path)


def plots(data: dict[str, Any], folder: Path) -> list[Path]:
    """Every plot that the suite's results support; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    if data.get("kind") == "throughput":
        return throughput_bars(data, folder)
    return metric_bars(data, folder) + curves(data, folder)


def metric_bars(data: dict[str, Any], folder: Path) -> list[Path]:
    """One bar chart per leaderboard metric (modes covered, KL, FID, …) and one of images/s."""
    table = rows(data)
    written: list[Path] = []
    for metric in [*(data.get("metrics") or []), "images/s"]:
        names, values, errors = [], [], []
        for row in table:
            value = row.get(f"_{metric}_mean") if metric != "images/s" else (
                float(row["images/s"]) if row["images/s"] != "–" else None)
            if value is not None:
                scale = 100 if metric in PERCENT else 1
                names.append(row["entry"])
                values.append(scale * value)
                errors.append(scale * row.get(f"_{metric}_std", 0.0))
        if not names:
            continue
        fig, ax = _subplots(figsize=(max(4, 0.8 * len(names) + 2), 3.5))
        ax.bar(names, values, color="tab:blue", yerr=errors if any(errors) else None, capsize=3)
        seeds = max((row["seeds"] for row in table), default=1)
        bars = " (error bars: ± one std over seeds)" if any(errors) and seeds > 1 else ""
        ax.set_title(f"{data['suite']}: {metric}{' (%)' if metric in PERCENT else ''}{bars}", fontsize=9)
        ax.tick_params(axis="x", rotation=30)
        _save(fig, folder / f"{data['suite']}-{metric.replace('/', '_per_')}.png", written)
    return written


def _history(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Log and evaluation records: a committed record's curves, else the run's ``metrics.jsonl``."""
    if isinstance(record.get("history"), dict):
        kept = record["history"]
        return sorted([*kept.get("losses", []), *kept.get("evaluations", [])], key=lambda r: r["step"])
    path = Path(record.get("run_dir") or "") / "metrics.jsonl"
    if not record.get("run_dir") or not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def curves(data: dict[str, Any], folder: Path) -> list[Path]:
    """Losses over steps (one panel per preset) and each metric over steps when it was evaluated ≥ 2 times."""
    first_seed: dict[str, dict[str, Any]] = {}
    for record in data["records"]:
        if record["status"] in SCORED:
            first_seed.setdefault(record.get("preset") or record["model"], record)
    histories = {name: _history(record) for name, record in first_seed.items()}
    histories = {name: history for name, history in histories.items() if history}
    written: list[Path] = []
    if not histories:
        return written
    columns = min(3, len(histories))
    rows_ = -(-len(histories) // columns)
    fig, axes = _subplots(rows_, columns, figsize=(4.5 * columns, 3 * rows_), squeeze=False)
    for ax, (name, history) in zip(axes.flat, histories.items()):
        logged = [h for h in history if "losses" in h]
        for key in sorted({k for h in logged for k in h["losses"]}):
            points = [(h["step"], h["losses"][key]) for h in logged if key in h["losses"]]
            ax.plot(*zip(*points), label=key, linewidth=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(histories):]:
        ax.axis("off")
    fig.suptitle(f"{data['suite']}: losses over steps (first seed)")
    _save(fig, folder / f"{data['suite']}-losses.png", written)
    for metric in data.get("metrics") or []:
        series = {name: [(h["step"], h["metrics"][metric]) for h in history
                         if isinstance(h.get("metrics"), dict) and isinstance(h["metrics"].get(metric), (int, float))]
                  for name, history in histories.items()}
        series = {name: points for name, points in series.items() if len(points) >= 2}
        if not series:
            continue
        fig, ax = _subplots(figsize=(6, 3.5))
        for name, points in series.items():
            steps, values = zip(*points)
            ax.plot(steps, [100 * v if metric in PERCENT else v for v in values], marker="o", label=name)
        ax.set_xlabel("iteration (one generator update)")
        ax.set_title(f"{data['suite']}: {metric} over iterations (first seed)")
        ax.legend(fontsize=7)
        _save(fig, folder / f"{data['suite']}-curve-{metric}.png", written)
    budget_metric = (data.get("budgets") or {}).get("metric")
    timed = {name: [(h["train_seconds"], h["metrics"][budget_metric]) for h in history
                    if isinstance(h.get("train_seconds"), (int, float)) and isinstance(h.get("metrics"), dict)
                    and isinstance(h["metrics"].get(budget_metric), (int, float))]
             for name, history in histories.items()} if budget_metric else {}
    timed = {name: points for name, points in timed.items() if len(points) >= 2}
    if timed:
        fig, ax = _subplots(figsize=(6, 3.5))
        for name, points in timed.items():
            ax.plot(*zip(*points), marker="o", label=name)
        ax.set_xlabel("training seconds (evaluations excluded)")
        ax.set_title(f"{data['suite']}: {budget_metric} over training time (first seed)")
        ax.legend(fontsize=7)
        _save(fig, folder / f"{data['suite']}-time-{budget_metric}.png", written)
    return written


def throughput_bars(data: dict[str, Any], folder: Path) -> list[Path]:
    """images/s per preset, one bar per precision × processes."""
    table = [row for row in throughput_rows(data) if row["_images_per_s"] is not None]
    written: list[Path] = []
    if not table:
        return written
    presets = list(dict.fromkeys(row["preset"] for row in table))
    settings = list(dict.fromkeys(f"{row['precision']} × {row['processes']}" for row in table))
    width = 0.8 / len(settings)
    fig, ax = _subplots(figsize=(max(5, 1.4 * len(presets) + 2), 3.8))
    for index, setting in enumerate(settings):
        values = [next((row["_images_per_s"] for row in table if row["preset"] == preset
                        and f"{row['precision']} × {row['processes']}" == setting), 0.0) for preset in presets]
        ax.bar([p + index * width for p in range(len(presets))], values, width, label=setting)
    ax.set_xticks([p + 0.4 - width / 2 for p in range(len(presets))], presets, rotation=20)
    ax.set_yscale("log")  # a 2-D MLP and a DCGAN differ by 100×; the log scale keeps every bar readable
    ax.set_ylabel("images/s (log scale)")
    ax.set_title(f"{data['suite']}: images/s by precision × processes")
    ax.legend(fontsize=7)
    _save(fig, folder / f"{data['suite']}-images_per_s.png", written)
    return written


__all__ = ["curves", "metric_bars", "plots", "throughput_bars"]
