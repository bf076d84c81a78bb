"""``report.md`` for a run directory: what was trained, how it went, what it reached, how fast.

Built only from the files the run wrote (config.json, metrics.jsonl, summary.json, samples/),
so ``ganzoo report RUN_DIR`` can regenerate it at any time, for an interrupted run too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .plots import figure
from .reading import reading


def _series(records: list[dict[str, Any]], section: str) -> dict[str, tuple[list[int], list[float]]]:
    series: dict[str, tuple[list[int], list[float]]] = {}
    for record in records:
        for key, value in (record.get(section) or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                steps, values = series.setdefault(key, ([], []))
                steps.append(record["step"])
                values.append(float(value))
    return series


def _plot(series: dict[str, tuple[list[int], list[float]]], path: Path, title: str, log: bool = False) -> Path | None:
    series = {k: v for k, v in series.items() if len(v[0]) > 0}
    if not series:
        return None
    fig = figure(figsize=(7, 3.5), dpi=100)
    ax = fig.subplots()
    for name, (steps, values) in sorted(series.items()):
        ax.plot(steps, values, label=name, marker="." if len(steps) < 5 else None)
    ax.set_xlabel("iteration")
    ax.set_title(title)
    if log and all(v > 0 for _, values in series.values() for v in values):
        ax.set_yscale("log")
    ax.legend(fontsize=7, ncol=2)
    # fixed margins: tight_layout draws the figure once more, a third of the report's plotting time
    fig.subplots_adjust(left=0.1, right=0.98, top=0.91, bottom=0.14)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def _plot_metrics(series: dict[str, tuple[list[int], list[float]]], path: Path) -> Path | None:
    """Metrics over training, one axis per metric (FID ~ 100 and a fraction ~ 0.5 share no scale), drawn
    only for metrics evaluated at two steps or more: a single point is no curve."""
    curves = {k: v for k, v in sorted(series.items()) if len(set(v[0])) >= 2}
    if not curves:
        path.unlink(missing_ok=True)  # a stale figure from an earlier report would contradict report.md
        return None
    fig = figure(figsize=(7, 1.6 * len(curves) + 0.6), dpi=100)
    axes = fig.subplots(len(curves), 1, sharex=True, squeeze=False)
    for ax, (name, (steps, values)) in zip(axes[:, 0], curves.items()):
        ax.plot(steps, values, marker="." if len(steps) < 20 else None)
        ax.set_ylabel(name, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("iteration")
    axes[0, 0].set_title("evaluation metrics (one axis each)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def _table(rows: list[tuple[str, str]], header: tuple[str, str] = ("", "")) -> list[str]:
    return [f"| {header[0]} | {header[1]} |", "|---|---|", *[f"| {a} | {b} |" for a, b in rows]]


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_report(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    records = []
    if (run_dir / "metrics.jsonl").exists():
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    plots = run_dir / "plots"
    own = set(summary.get("diagnostics") or {})  # the plugin's own diagnostics (PhaseResult.diagnostics)
    harness_diagnostics = {k: v for k, v in _series(records, "diagnostics").items() if k not in own}
    figures = {
        "Losses": _plot(_series(records, "losses"), plots / "losses.png", "losses per phase"),
        "Gradient norms": _plot({k: v for k, v in harness_diagnostics.items() if "grad_norm" in k},
                                plots / "grad_norms.png", "gradient norms (before clipping)", log=True),
        "Discriminator outputs": _plot({k: v for k, v in harness_diagnostics.items()
                                        if any(t in k for t in ("d_real", "d_fake", "r_t", "accuracy"))},
                                       plots / "discriminator.png", "D(real), D(fake), accuracy, r_t"),
        "Model diagnostics": _plot({k: v for k, v in _series(records, "diagnostics").items() if k in own},
                                   plots / "model_diagnostics.png", "the model's own diagnostics (at the step)"),
        "Metrics over training": _plot_metrics({k: v for k, v in _series(records, "metrics").items()
                                                if k not in ("n_samples", "modes_total")}, plots / "metrics.png"),
        "Throughput": _plot({"images/s": _series(records, "throughput").get("images_per_s", ([], []))},
                            plots / "throughput.png", "images per second"),
    }
    lines = [f"# {config['model']} on {config['dataset']}", ""]
    status = summary.get("status", "unfinished (no summary.json yet)")
    steps = summary.get("steps", records[-1]["step"] if records else 0)
    preset = f" (preset {config['preset']})" if config.get("preset") else ""
    lines += [f"Status: **{status}** after {steps} iterations{preset}.", ""]
    precision = config.get("precision") or {}
    if precision.get("resolved"):
        lines += [f"Precision: **{precision['resolved']}** ({precision.get('reason', '')}).", ""]
    lines += ["## Final metrics", "", *metric_lines(summary, config), ""]
    if summary.get("metrics") is not None:
        lines += [f"Reading: {reading(summary.get('metrics'), config, summary.get('evaluated', True))}.", ""]
    lines += evaluation_lines(summary.get("evaluations") or [])
    if summary.get("diagnostics"):
        lines += ["## Model diagnostics (last record)", "",
                  *_table([(k, _fmt(v)) for k, v in summary["diagnostics"].items()], ("diagnostic", "value")), ""]
    warnings = summary.get("warnings") or []
    lines += ["## Warnings", ""]
    lines += [f"- step {w.get('step')}: {w.get('message', w)}" for w in warnings] or ["None raised."]
    lines.append("")
    throughput = summary.get("throughput") or {}
    if throughput:
        lines += ["## Throughput", "", *_table([(k, _fmt(v)) for k, v in throughput.items()], ("measure", "value")), ""]
    for title, path in figures.items():
        if path is not None:
            lines += [f"## {title}", "", f"![{title}]({path.relative_to(run_dir)})", ""]
    grids = sorted((run_dir / "samples").glob("*.png")) if (run_dir / "samples").exists() else []
    views = [g for g in grids if g.stem.startswith("view_")]
    grids = [g for g in grids if g not in views]
    if views:
        lines += ["## Sample views", ""]
        lines += [f"**{g.stem.removeprefix('view_')}**\n\n![{g.stem}]({g.relative_to(run_dir)})\n" for g in views]
    if grids:
        lines += ["## Samples over training", ""]
        lines += [f"**{g.stem}**\n\n![{g.stem}]({g.relative_to(run_dir)})\n" for g in grids]
    lines += ["## Configuration", "", "```json", json.dumps({k: config[k] for k in ("model", "dataset", "preset",
                                                                                    "train", "params") if k in config},
                                                            indent=2), "```", ""]
    env = summary.get("environment") or {}
    if env:
        lines += ["## Environment", "", *_table([(k, _fmt(v)) for k, v in env.items()], ("", "")), ""]
    path = run_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


GENERATORS = {"raw": "the trained generator", "ema": "its EMA (weight average)"}


def metric_lines(summary: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """The metrics of each scored generator side by side, then each protocol once, then the data split."""
    by_generator = summary.get("metrics_by_generator") or {summary.get("scored_generator", "raw"):
                                                           summary.get("metrics") or {}}
    scored = summary.get("scored_generator", "raw")
    labels = [label for label in ("raw", "ema") if by_generator.get(label)]
    if not labels:
        return ["No metric applies to this data without a feature network (see `ganzoo eval --extractor`)."]
    names = list(dict.fromkeys(name for label in labels for name in by_generator[label]))
    header = " | ".join(f"{label}{' (scored)' if label == scored and len(labels) > 1 else ''}" for label in labels)
    lines = [f"Scored: **{GENERATORS.get(scored, scored)}**"
             + (f"; {GENERATORS['ema' if scored == 'raw' else 'raw']} is shown beside it." if len(labels) > 1 else "."),
             "", f"| metric | {header} |", "|---|" + "---|" * len(labels)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_fmt(by_generator[label].get(name, "–")) for label in labels) + " |")
    lines += protocol_lines(summary.get("protocol") or {})
    data = config.get("data") or {}
    if data:
        lines += ["", "Data: " + ", ".join(f"{k}={v}" for k, v in data.items() if v is not None)]
    return lines


def protocol_lines(protocol: dict[str, Any]) -> list[str]:
    """Each distinct protocol once, with the metrics computed under it."""
    protocols: dict[str, list[str]] = {}
    for name, described in protocol.items():
        if isinstance(described, dict):
            text = ", ".join(f"{k}={v}" for k, v in described.items() if v is not None and k != "metric")
            protocols.setdefault(text, []).append(name)
    if not protocols:
        return []
    return ["", "Protocols:", "", *[f"- {', '.join(members)}: {text}" for text, members in protocols.items()]]


def evaluation_lines(evaluations: list[dict[str, Any]]) -> list[str]:
    """``ganzoo eval`` results (summary.json → evaluations), newest last, each with its protocols once."""
    if not evaluations:
        return []
    lines = ["## Evaluations after training (`ganzoo eval`)", ""]
    for number, record in enumerate(evaluations, 1):
        extractors = sorted({str(p.get("extractor")) for p in (record.get("protocol") or {}).values()
                             if isinstance(p, dict) and p.get("extractor")})
        lines += [f"### {number}. {record.get('time', '')}: checkpoint {record.get('checkpoint')}"
                  f"{' (EMA)' if record.get('ema') else ''}, n = {record.get('n')}, seed {record.get('seed')}"
                  + (f", extractor {', '.join(extractors)}" if extractors else ""), ""]
        lines += _table([(name, _fmt(value)) for name, value in (record.get("metrics") or {}).items()],
                        ("metric", "value"))
        lines += [*protocol_lines(record.get("protocol") or {}), ""]
    return lines


def write_html(run_dir: Path) -> Path:
    """``report.html``: report.md rendered, its images embedded, so the one file can be sent or archived."""
    import base64
    import re

    import markdown

    run_dir = Path(run_dir)
    source = run_dir / "report.md"
    if not source.exists():
        write_report(run_dir)
    body = markdown.markdown(source.read_text(), extensions=["tables", "fenced_code"])

    def embed(match: re.Match) -> str:
        image = run_dir / match.group(1)
        if not image.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}"'

    body = re.sub(r'src="([^"]+\.png)"', embed, body)
    title = source.read_text().splitlines()[0].lstrip("# ")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}img{max-width:100%}")
    path = run_dir / "report.html"
    path.write_text(f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
                    f"<style>{style}</style></head>\n<body>\n{body}\n</body></html>\n")
    return path
