"""The leaderboard of a ``throughput`` suite: images/s per preset × precision × processes.

Each row carries the per-phase step times and peak memory the harness measured, and its speed-up
over the same preset in fp32 with one process, so the gain of bf16 or of a second process reads
off directly. Published speeds (other hardware, other settings) are listed below for context only.
"""

from __future__ import annotations

from typing import Any

from .leaderboard import header_lines, note_lines

COLUMNS = ["preset", "precision", "processes", "global batch", "images/s", "ms/D step", "ms/G step", "peak MB",
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
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row[c] for c in COLUMNS) + " |" for row in throughput_rows(data)]
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


__all__ = ["throughput_markdown", "throughput_rows"]
