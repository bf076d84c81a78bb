"""`ganzoo bench`: run a suite, show a live table, write results.json, the leaderboard and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

console = Console(stderr=True)


STATUS_STYLE = {"ok": "{}", "skipped": "[yellow]{}[/]", "time-limit": "[yellow]{}[/]"}
RECORDED = ("ok", "time-limit", "non-finite")  # the statuses --records keeps (a failed or skipped entry has no numbers)


def _value(value) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return "–"


def _table(records: list[dict], metrics: list[str]) -> Table:
    table = Table(title="ganzoo bench")
    for column in ("entry", "status", *metrics, "images/s", "s"):
        table.add_column(column)
    for r in records:
        values = [_value(r.get("metrics", {}).get(m)) for m in metrics]
        speed = f"{r['throughput']['images_per_s']:.0f}" if "throughput" in r else "–"
        status = STATUS_STYLE.get(r["status"], "[red]{}[/]").format(r["status"])
        table.add_row(r["key"], status, *values, speed, f"{r['seconds']:.0f}")
    return table


def _seeds(text: str | None) -> list[int] | None:
    from ..contract.errors import BenchError

    if not text:
        return None
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise BenchError(f"--seeds takes whole numbers separated by commas, e.g. 0,1,2; got {text!r}") from None


def bench(
    suite: Annotated[str, typer.Option(metavar="NAME", help="Suite name from registry.toml (smoke, mixtures, …)")] = "smoke",
    out: Annotated[Optional[Path], typer.Option(metavar="DIR", help="Output folder (default bench/results/SUITE)")] = None,
    models: Annotated[Optional[str], typer.Option(metavar="NAMES", help="Comma-separated model names to keep")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a half-finished suite in --out")] = False,
    markdown_path: Annotated[Optional[Path], typer.Option("--markdown", metavar="FILE", help="Also write the leaderboard into this "
                                                          "file (e.g. docs/benchmarks.md), replacing only this "
                                                          "suite's section")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", metavar="DIR", help="Where datasets live (the smoke suite needs none)")] = None,
    executor: Annotated[str, typer.Option(metavar="KIND", help="inline: entries one after the other in this process; local: "
                                          "--jobs entries at once, each a process (submitit); slurm: one SLURM "
                                          "job per entry (submitit)")] = "inline",
    jobs: Annotated[int, typer.Option(metavar="N", help="Entries running at once (local) or the SLURM array's "
                                      "parallelism")] = 1,
    partition: Annotated[Optional[str], typer.Option(metavar="NAME", help="SLURM partition")] = None,
    gpus_per_job: Annotated[int, typer.Option(metavar="N", help="GPUs each job gets (a throughput entry's --gpus N "
                                              "needs N)")] = 0,
    cpus_per_job: Annotated[Optional[int], typer.Option(metavar="N", help="CPUs each SLURM job gets")] = None,
    timeout_min: Annotated[Optional[int], typer.Option(metavar="MIN", help="Wall-time limit of each job (default: "
                                                       "the suite's budget + 15 min)")] = None,
    slurm: Annotated[Optional[list[str]], typer.Option(metavar="KEY=VALUE", help="Other SLURM options (submitit's "
                                                       "slurm_KEY, e.g. account=proj, qos=normal, constraint=a100)")] = None,
    steps: Annotated[Optional[int], typer.Option(metavar="N", help="Override every entry's steps (quick trial runs)")] = None,
    seeds: Annotated[Optional[str], typer.Option(metavar="LIST", help="Override the suite's seeds, comma-separated")] = None,
    entries: Annotated[Optional[str], typer.Option(metavar="PRESETS", help="Comma-separated presets of the suite to "
                                                   "run (e.g. wgan-gp/ring)")] = None,
    records: Annotated[Optional[Path], typer.Option("--records", metavar="DIR", help="Also write each finished entry's "
                                                    "seed record into DIR/SUITE/ (the committed ones: "
                                                    "harness/suites/records); with --compare or --tables-only, read "
                                                    "records from DIR instead of the packaged ones")] = None,
    tables_only: Annotated[bool, typer.Option("--tables-only", help="Run nothing: rebuild the leaderboard (and with "
                                              "--markdown its section and plots) from the committed seed records; "
                                              "--suite all rebuilds every suite")] = False,
    compare: Annotated[bool, typer.Option("--compare", help="Re-run the chosen entries and say whether each lands on "
                                          "the committed record of its seed (bit for bit) or within the committed "
                                          "seeds' spread; exit 1 when one does not")] = False,
) -> None:
    """Run a benchmark suite and write its leaderboard (terminal, JSON, Markdown, PNG plots)."""
    from ..suites.executor import ExecutorOptions
    from ..suites.leaderboard_plots import plots
    from ..suites.runner import load_suites, run_suite
    from ..contract.errors import BenchError
    from ..suites.leaderboard import markdown, write_section
    from ..suites.seed_records import write_record

    suites = load_suites()
    if tables_only:
        if compare or resume or entries:
            raise BenchError("--tables-only runs nothing: drop --compare, --resume and --entries")
        from ..suites.records_tables import rebuild_tables

        for written in rebuild_tables(suites, suite, markdown_path, records):
            console.print(written, highlight=False)
        return
    if suite not in suites:
        raise BenchError(f"unknown suite {suite!r}; registry.toml defines {', '.join(sorted(suites))}")
    if executor not in ("inline", "local", "slurm"):
        raise BenchError(f"--executor must be inline, local or slurm, got {executor!r}")
    extra = dict(item.split("=", 1) for item in slurm or [] if "=" in item)
    options = ExecutorOptions(kind=executor, jobs=jobs, partition=partition, gpus=gpus_per_job,  # type: ignore[arg-type]
                              cpus=cpus_per_job, timeout_min=timeout_min, slurm=extra)
    chosen_seeds = _seeds(seeds)
    overrides = {**({"steps": steps} if steps else {}), **({"seeds": chosen_seeds} if chosen_seeds else {})}
    if entries:
        wanted = [name.strip() for name in entries.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in suites[suite].presets]
        if unknown:
            raise BenchError(f"--entries {', '.join(unknown)}: not in suite {suite!r}, whose presets are "
                             f"{', '.join(suites[suite].presets)}")
    else:
        wanted = None
    if compare and steps:
        raise BenchError("--compare re-runs entries as committed: drop --steps")
    folder = out or Path("bench/results") / (f"{suite}-compare" if compare else suite)
    if compare and not out and (folder / "results.json").exists() and not resume:
        import shutil

        shutil.rmtree(folder)  # a fresh re-check each time (the folder is ours)
    finished: list[dict] = []
    with Live(_table(finished, suites[suite].metrics), console=console, refresh_per_second=2,
              transient=not console.is_terminal) as live:
        def show(record: dict, environment: dict) -> None:
            finished.append(record)
            live.update(_table(finished, suites[suite].metrics))
            if records is not None and not compare and record["status"] in RECORDED:  # now: a stop loses nothing
                write_record(records, suite, record, environment)

        data = run_suite(suite, out=folder, models=models.split(",") if models else None, presets=wanted, resume=resume,
                         data_dir=data_dir, on_record=show, executor=options, overrides=overrides)
    if records is not None and not compare:  # again for all, entries finished before a --resume included
        kept = [write_record(records, suite, r, data.get("environment", {})) for r in data["records"]
                if r["status"] in RECORDED]
        console.print(f"seed records: {len(kept)} written to {records / suite}")
    if compare:
        from ..suites.records_tables import report_comparison

        if not report_comparison(suite, suites[suite], data, Console(), records):
            raise typer.Exit(1)
        return
    text = markdown(data)
    (folder / "leaderboard.md").write_text(text)
    images = plots(data, folder)
    if markdown_path:  # the plots go beside the document, so the committed leaderboard shows them
        figures = plots(data, markdown_path.parent / "images" / "bench")
        links = [f"![{p.stem}](images/bench/{p.name})" for p in figures]
        write_section(markdown_path, suite, text + ("\nPlots:\n\n" + "\n".join(links) + "\n" if links else ""))
    Console().print(_table(data["records"], suites[suite].metrics))
    console.print(f"results: {folder / 'results.json'}; leaderboard: {folder / 'leaderboard.md'}; "
                  f"plots: {', '.join(p.name for p in images)}")
    for r in data["records"]:
        if r["status"] == "skipped":
            console.print(f"[yellow]skipped[/] {r['key']}: {r['reason']}", highlight=False)
        elif r["status"] == "time-limit":
            console.print(f"[yellow]over budget[/] {r['key']}: {r.get('stopped')}; its metrics are those it reached",
                          highlight=False)
        elif r["status"] != "ok":
            console.print(f"[red]{r['status']}[/] {r['key']}: {r.get('error', 'no reason recorded')} "
                          f"(traceback in {folder / 'results.json'})", highlight=False)
    failed = [r["key"] for r in data["records"] if r["status"] not in ("ok", "skipped", "time-limit")]
    if failed:
        console.print(f"[red]failed entries:[/] {', '.join(failed)}")
        raise typer.Exit(1)
