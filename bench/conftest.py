"""Bench helpers: where the shared data lives, and the harness/plain-loop ratio printed after a run."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA = Path(os.environ.get("GANZOO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


#: interleaved measurements: (what, per-round ratios, target), printed with median and range
RATIOS: list[tuple[str, list[float], str]] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if RATIOS:
        import statistics

        terminalreporter.section("harness vs careful loop (interleaved rounds: median [min–max])")
        for what, ratios, target in RATIOS:
            terminalreporter.write_line(f"{what}: {statistics.median(ratios):.3f} [{min(ratios):.3f}–"
                                        f"{max(ratios):.3f}] over {len(ratios)} rounds (target {target}); rounds: "
                                        + ", ".join(f"{r:.3f}" for r in ratios))
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    by_group: dict[str, dict[str, float]] = {}
    for bench in session.benchmarks:
        side = bench.extra_info.get("side")
        if side and bench.stats:
            by_group.setdefault(bench.group, {})[side] = bench.stats.median
    lines = []
    for group, sides in sorted(by_group.items()):
        if {"harness", "plain"} <= set(sides):
            ratio = sides["plain"] / sides["harness"]  # throughput ratio = inverse time ratio
            lines.append(f"{group}: harness {1000 * sides['harness']:.2f} ms, plain loop {1000 * sides['plain']:.2f} "
                         f"ms per iteration → harness throughput = {ratio:.3f} × careful loop (not interleaved)")
    if lines:
        terminalreporter.section("harness overhead (median per iteration)")
        for line in lines:
            terminalreporter.write_line(line)
