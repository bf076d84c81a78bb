"""Leaderboards rebuilt from committed seed records, and re-checks of a row against them.

``ganzoo bench --tables-only`` is how docs/benchmarks.md is written: every section between
``<!-- bench:SUITE -->`` markers comes from ``harness/suites/records/SUITE/`` alone, so a test can
regenerate the document and find no difference. A suite without records gets a section that says so
and how to make them, never a table whose runs are gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .seed_records import compare, run_precision, packaged_root, read_records, results_from_records, suites_with_records


def no_records_text(name: str, suite: Any) -> str:
    return (f"## {name}\n\n{suite.description}\n\nNo committed seed records for this suite yet, so no table: "
            f"every number published here is regenerated from `harness/suites/records/{name}/`. Make them with "
            f"`ganzoo bench --suite {name} --records harness/suites/records` (then `ganzoo bench --tables-only "
            f"--suite {name} --markdown docs/benchmarks.md`).\n")


def section_text(name: str, suite: Any, folder: Path | None = None) -> tuple[str, dict[str, Any] | None]:
    """The Markdown section of one suite from its records (and the data it was drawn from, if any)."""
    from .leaderboard import markdown

    records, stale = split_stale(suite, read_records(name, folder))
    if not records:
        return no_records_text(name, suite) + stale_text(name, stale), None
    data = results_from_records(name, suite, records)
    return markdown(data) + missing_text(suite, records + stale) + stale_text(name, stale), data


def split_stale(suite: Any, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(current, stale): a record is stale when its preset (or the suite's steps and batch) changed in
    registry.toml after it ran, so its numbers are not the preset's any more; its fingerprint says so."""
    from .runner import entries

    if not records:  # (a smoke suite's entries would discover every installed plugin)
        return [], []
    current = {entry["preset"]: entry["fingerprint"] for entry in entries(suite, None) if entry["preset"]}
    fresh, stale = [], []
    for record in records:
        changed = record.get("preset") in current and record.get("fingerprint") != current[record["preset"]]
        (stale if changed else fresh).append(record)
    return fresh, stale


def stale_text(name: str, stale: list[dict[str, Any]]) -> str:
    """Records left out because their settings changed: said, with the command that makes them again."""
    if not stale:
        return ""
    presets = list(dict.fromkeys(r["preset"] for r in stale))
    seeds = sorted({r["seed"] for r in stale})
    return (f"\nLeft out, made with settings that have changed since (the preset in registry.toml, or the "
            f"suite's steps or batch): {', '.join(r['key'] for r in stale)}. Make them again with `ganzoo bench "
            f"--suite {name} --entries {','.join(presets)} --seeds {','.join(map(str, seeds))} --records DIR`.\n")


def missing_text(suite: Any, records: list[dict[str, Any]]) -> str:
    """The suite's entries (preset × seed) that have no committed record: said, never silently left out."""
    have = {(r.get("preset"), r.get("seed")) for r in records}
    missing: dict[str, list[int]] = {}
    for preset in suite.presets:
        for seed in suite.seeds:
            if (preset, seed) not in have:
                missing.setdefault(preset, []).append(seed)
    if not missing:
        return ""
    items = "; ".join(f"{preset} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
                      for preset, seeds in missing.items())
    return f"\nNo committed record yet, so not in the tables above: {items}.\n"


def _chosen(suites: dict[str, Any], suite: str, markdown_path: Path | None, folder: Path | None) -> list[str]:
    if suite != "all":
        if suite not in suites:
            from ..contract.errors import BenchError

            raise BenchError(f"unknown suite {suite!r}; registry.toml defines {', '.join(sorted(suites))} (or all)")
        return [suite]
    in_document = set()
    if markdown_path is not None and markdown_path.exists():
        text = markdown_path.read_text()
        in_document = {name for name in suites if f"<!-- bench:{name} -->" in text}
    return [name for name in suites if name in in_document or name in suites_with_records(folder)]


def rebuild_tables(suites: dict[str, Any], suite: str, markdown_path: Path | None,
                   folder: Path | None = None) -> list[str]:
    """Rewrite the chosen suites' sections (and plots) of ``markdown_path`` from records; or print them."""
    from .leaderboard_plots import plots
    from .leaderboard import write_section

    done = []
    for name in _chosen(suites, suite, markdown_path, folder):
        text, data = section_text(name, suites[name], folder)
        if markdown_path is None:
            print(text)
            continue
        links = []
        if data is not None:
            figures = plots(data, markdown_path.parent / "images" / "bench")
            links = [f"![{p.stem}](images/bench/{p.name})" for p in figures]
        write_section(markdown_path, name, text + ("\nPlots:\n\n" + "\n".join(links) + "\n" if links else ""))
        count = len(data["records"]) if data else 0
        done.append(f"{name}: {count} record(s) → {markdown_path}")
    return done


def report_comparison(name: str, suite: Any, data: dict[str, Any], console: Any, folder: Path | None = None) -> bool:
    """Print how each re-run entry lands against the committed records (the packaged ones, or those in
    ``folder``); True when every one does."""
    from rich.table import Table

    committed = read_records(name, folder)
    if not committed:
        console.print(f"suite {name!r} has no committed records in {Path(folder or packaged_root()) / name}: "
                      "nothing to compare with")
        return False
    table = Table(title=f"{name}: re-run against the committed records")
    for column in ("entry", "metric", "now", "committed (same seed)", "committed band", "verdict"):
        table.add_column(column)
    passed = True
    for record in data["records"]:
        if record["status"] not in ("ok", "time-limit"):
            console.print(f"{record['key']}: {record['status']} ({record.get('error') or record.get('reason')})")
            passed = False
            continue
        same_preset = [r for r in committed if r.get("preset") == record.get("preset")]
        result = compare(record, same_preset, suite.metrics)
        here = (run_precision(record.get("run_dir")) or {}).get("resolved")
        recorded = {(r.get("resolved_precision") or {}).get("resolved") for r in same_preset} - {None}
        if here and recorded and here not in recorded:
            console.print(f"{record['key']}: ran in {here} here, the records in {', '.join(sorted(recorded))} "
                          "(precision auto follows the CPU): no bit-for-bit match is possible, only the spread",
                          highlight=False)
        passed &= result["passed"]
        for metric, verdict in result["metrics"].items():
            band = verdict.get("band")
            table.add_row(record["key"], metric, f"{verdict['value']:.6g}",
                          "–" if verdict.get("committed_same_seed") is None else f"{verdict['committed_same_seed']:.6g}",
                          f"[{band[0]:.4g}, {band[1]:.4g}] ({verdict['seeds']} seeds)" if band else "–",
                          verdict["verdict"])
        summary = "bit for bit" if result["bit_exact"] else ("within the committed spread" if result["passed"]
                                                              else "OUTSIDE the committed spread")
        console.print(f"{record['key']}: {summary}", highlight=False)
    console.print(table)
    return passed
