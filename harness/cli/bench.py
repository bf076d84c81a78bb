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
) -> None:
    """Run a benchmark suite and write its leaderboard (terminal, JSON, Markdown, PNG plots)."""
    from ..bench.executor import ExecutorOptions
    from ..bench.plots import plots
    from ..bench.suites import BenchError, load_suites, run_suite
    from ..bench.tables import markdown, write_section

    suites = load_suites()
    if suite not in suites:
        raise BenchError(f"unknown suite {suite!r}; registry.toml defines {', '.join(sorted(suites))}")
    if executor not in ("inline", "local", "slurm"):
        raise BenchError(f"--executor must be inline, local or slurm, got {executor!r}")
    extra = dict(item.split("=", 1) for item in slurm or [] if "=" in item)
    options = ExecutorOptions(kind=executor, jobs=jobs, partition=partition, gpus=gpus_per_job,  # type: ignore[arg-type]
                              cpus=cpus_per_job, timeout_min=timeout_min, slurm=extra)
    overrides = {**({"steps": steps} if steps else {}),
                 **({"seeds": [int(s) for s in seeds.split(",")]} if seeds else {})}
    folder = out or Path("bench/results") / suite
    finished: list[dict] = []
    with Live(_table(finished, suites[suite].metrics), console=console, refresh_per_second=2,
              transient=not console.is_terminal) as live:
        def show(record: dict) -> None:
            finished.append(record)
            live.update(_table(finished, suites[suite].metrics))

        data = run_suite(suite, out=folder, models=models.split(",") if models else None, resume=resume,
                         data_dir=data_dir, on_record=show, executor=options, overrides=overrides)
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
