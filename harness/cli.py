"""The `ganzoo` command line: list, show and run models (typer + rich)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import registry
from .data.base import DataError
from .presets import PresetError, all_presets, presets_for
from .registry import BrokenPlugin, RegistryError
from .resolve import ConfigError, resolve_run
from .rundir import RunDir, RunDirError, default_run_dir

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ganzoo: a GAN model zoo with one honest training and benchmarking harness.")
out = Console()
err = Console(stderr=True)

USER_ERRORS = (RegistryError, ConfigError, PresetError, DataError, RunDirError)


def fail(message: str, code: int = 2, quiet: bool = False) -> None:
    if not quiet:
        err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@app.command("list")
def list_models(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False) -> None:
    """List every installed model plugin (built-in and third-party) and any broken ones."""
    working, problems = registry.discover()
    if as_json:
        rows = [{**p.spec.model_dump(mode="json"), "distribution": p.source.distribution, "status": "ok"}
                for p in working]
        rows += [{"name": p.source.name, "distribution": p.source.distribution, "status": "broken",
                  "reason": p.reason} if isinstance(p, BrokenPlugin) else {"status": "error", "reason": p}
                 for p in problems]
        out.print_json(json.dumps(rows))
        return
    table = Table(title="ganzoo models")
    for column in ("name", "title", "family", "data", "cond.", "paper", "distribution"):
        table.add_column(column)
    for p in working:
        spec = p.spec
        table.add_row(spec.name, spec.title, spec.family.value, ", ".join(sorted(k.value for k in spec.data_kinds)),
                      "yes" if spec.conditional else "", f"arXiv {spec.arxiv}" if spec.arxiv else spec.paper,
                      p.source.distribution)
    out.print(table)
    for problem in problems:
        if isinstance(problem, BrokenPlugin):
            err.print(f"[yellow]broken plugin[/] {problem.source.name} ({problem.source.describe()}): "
                      f"{problem.reason}", highlight=False)
        else:
            err.print(f"[yellow]plugin conflict[/]: {problem}", highlight=False)


@app.command()
def show(model: Annotated[str, typer.Argument(help="Model name, e.g. wgan-gp")]) -> None:
    """Show a model's spec, its config schema (defaults, ranges, descriptions) and its presets."""
    try:
        plugin = registry.get(model)
    except RegistryError as error:
        fail(str(error))
    spec = plugin.spec
    out.print(f"[bold]{spec.name}[/] — {spec.title}")
    out.print(f"paper: {spec.paper}" + (f" (arXiv {spec.arxiv})" if spec.arxiv else ""))
    out.print(f"family: {spec.family.value}; data: {', '.join(sorted(k.value for k in spec.data_kinds))}; "
              f"conditional: {spec.conditional}; default dataset: {spec.default_dataset}")
    out.print(f"from: {plugin.source.describe()}")
    table = Table(title="config")
    for column in ("field", "type", "default", "range", "description"):
        table.add_column(column)
    schema = plugin.cls.Config.model_json_schema()
    for name, field in plugin.cls.Config.model_fields.items():
        prop = schema["properties"].get(name, {})
        bounds = [f"{label} {prop[key]}" for key, label in (("minimum", "≥"), ("exclusiveMinimum", ">"),
                                                             ("maximum", "≤"), ("exclusiveMaximum", "<"))
                  if key in prop]
        if "enum" in prop:
            bounds.append(" | ".join(map(str, prop["enum"])))
        table.add_row(name, prop.get("type", str(field.annotation)), repr(field.default), ", ".join(bounds),
                      field.description or "")
    out.print(table)
    presets = presets_for(model)
    if presets:
        table = Table(title="presets (registry.toml)")
        for column in ("preset", "dataset", "description"):
            table.add_column(column)
        for name, preset in presets.items():
            table.add_row(name, preset.dataset, preset.description)
        out.print(table)


@app.command()
def run(
    model: Annotated[str, typer.Argument(help="Model name (see `ganzoo list`)")],
    dataset: Annotated[Optional[str], typer.Option(help="ring, grid, mnist, … or folder:PATH")] = None,
    preset: Annotated[Optional[str], typer.Option(help="Preset from registry.toml (default: MODEL/DATASET)")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Training iterations")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Batch size per process")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed")] = None,
    precision: Annotated[Optional[str], typer.Option(help="fp32 | bf16 | fp16")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Run directory (default runs/MODEL-DATASET-TIME)")] = None,
    assignments: Annotated[Optional[list[str]], typer.Option("--set", help="Override a field: key=value "
                                                             "(model field, or train.FIELD)")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Where datasets live "
                                                     "(default $GANZOO_DATA, else the user cache)")] = None,
    download: Annotated[bool, typer.Option(help="Download missing dataset files (needs network)")] = False,
    cpu: Annotated[bool, typer.Option("--cpu", help="Train on the CPU even if a GPU is present")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Plain log lines instead of a live bar")] = False,
    resume: Annotated[Optional[Path], typer.Option("--resume", help="Continue the run in this directory from its "
                                                   "latest checkpoint (only --steps may change)")] = None,
    gpus: Annotated[Optional[int], typer.Option("--gpus", help="Train data-parallel on N GPUs of this machine "
                                                "(one process each)")] = None,
    processes: Annotated[Optional[int], typer.Option("--processes", help="Data-parallel processes on this machine; "
                                                     "with --cpu, N CPU processes over gloo")] = None,
    num_machines: Annotated[int, typer.Option("--num-machines", help="Machines in a multi-node run")] = 1,
    machine_rank: Annotated[int, typer.Option("--machine-rank", help="This machine's rank (0 … machines−1)")] = 0,
    main_address: Annotated[Optional[str], typer.Option("--main-address", help="Host of machine rank 0 "
                                                        "(multi-node)")] = None,
    main_port: Annotated[Optional[int], typer.Option("--main-port", help="Port on the main host (default: a free "
                                                     "port on one machine, 29500 across machines)")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=1, help="Stop training after this many "
                                                        "seconds, evaluate and keep a checkpoint to resume from")] = None,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html beside report.md")] = False,
) -> None:
    """Train MODEL and write a run directory (config, metrics, checkpoints, samples, summary).

    Ctrl-C (SIGINT) or SIGTERM finishes the current step, writes a checkpoint and exits with
    code 130; `ganzoo run MODEL --resume RUN_DIR` continues bit for bit.
    """
    from .checkpoint import CheckpointError
    from .distributed import DistributedError
    from .guard import NonFiniteStop
    from .launch import is_worker, launch, plan
    from .precision import PrecisionError
    from .resume import resume_run
    from .trainer import INTERRUPTED_EXIT_CODE, PluginContractError, Trainer  # torch loads only when training

    worker = is_worker()
    quiet = worker and os.environ.get("RANK", "0") != "0"  # only rank 0 of a launched run speaks
    overrides = {key: value for key, value in (("steps", steps), ("batch_size", batch_size), ("seed", seed),
                                               ("precision", precision)) if value is not None}
    errors = USER_ERRORS + (PluginContractError, CheckpointError, DistributedError, PrecisionError)
    try:
        if resume is not None:
            if out_dir is not None and out_dir.resolve() != resume.resolve():
                fail(f"--resume {resume} continues that directory; --out {out_dir} names another")
            config, plugin = resume_run(resume, model, dataset=dataset, preset=preset, train_overrides=overrides,
                                        assignments=assignments or [])
            path = resume
        else:
            config, plugin = resolve_run(model, dataset=dataset, preset=preset, train_overrides=overrides,
                                         assignments=assignments or [])
            path = out_dir or default_run_dir(config.model, config.dataset)
        if not worker:
            launch_plan = plan(gpus=gpus, processes=processes, cpu=cpu, num_machines=num_machines,
                               machine_rank=machine_rank, main_address=main_address, main_port=main_port,
                               cpu_threads=config.train.cpu_threads, sync_batchnorm=config.train.sync_batchnorm)
            if launch_plan is not None:
                if resume is None and machine_rank == 0:
                    RunDir(path)  # refuse a used directory before starting anything
                device = "CPU" if cpu else "GPU"
                err.print(f"training [bold]{config.model}[/] on [bold]{config.dataset}[/] with "
                          f"{launch_plan.world_size} {device} processes (global batch {launch_plan.world_size} × "
                          f"{config.train.batch_size} = {launch_plan.world_size * config.train.batch_size}) → {path}",
                          highlight=False)
                command = _worker_command(model, path, resume is not None, dataset=dataset, preset=preset,
                                          overrides=overrides, assignments=assignments or [], data_dir=data_dir,
                                          download=download, cpu=cpu, no_progress=no_progress,
                                          time_limit=time_limit, html=html)
                code = launch(launch_plan, command)
                summary_path = Path(path) / "summary.json"
                if code == 0 and machine_rank == 0 and summary_path.is_file():
                    print_summary(json.loads(summary_path.read_text()), Path(path))
                raise typer.Exit(code)
        run_dir = RunDir(path, resume=resume is not None or worker)
        trainer = Trainer(config, plugin, run_dir, data_dir=data_dir, download=download, cpu=cpu,
                          progress=not no_progress, resume=resume is not None, time_limit_s=time_limit)
        if trainer.is_main and not worker:
            action = f"resuming from step {trainer.step}" if resume is not None else "training"
            err.print(f"{action} [bold]{config.model}[/] on [bold]{config.dataset}[/]"
                      f"{f' (preset {config.preset})' if config.preset else ''} → {run_dir.path}", highlight=False)
        summary = trainer.fit()
    except errors as error:
        fail(str(error), quiet=quiet)
    except NonFiniteStop as error:
        fail(str(error), code=3, quiet=quiet)
    if html and trainer.is_main:
        from .report import write_html

        write_html(run_dir.path)
    if summary["status"] == "interrupted":
        raise typer.Exit(INTERRUPTED_EXIT_CODE)
    if not worker:
        print_summary(summary, run_dir.path)


def _worker_command(model: str, path: Path, resume: bool, *, dataset: str | None, preset: str | None,
                    overrides: dict, assignments: list[str], data_dir: Path | None, download: bool, cpu: bool,
                    no_progress: bool, time_limit: float | None = None, html: bool = False) -> list[str]:
    """The `ganzoo run` arguments every launched process receives (the run directory fixed)."""
    command = ["run", model, "--resume" if resume else "--out", str(path)]
    for flag, value in (("--dataset", dataset), ("--preset", preset), ("--steps", overrides.get("steps")),
                        ("--batch-size", overrides.get("batch_size")), ("--seed", overrides.get("seed")),
                        ("--precision", overrides.get("precision")), ("--data-dir", data_dir),
                        ("--time-limit", time_limit)):
        if value is not None:
            command += [flag, str(value)]
    for item in assignments:
        command += ["--set", item]
    command += [flag for flag, on in (("--download", download), ("--cpu", cpu), ("--no-progress", no_progress),
                                      ("--html", html)) if on]
    return command


def print_summary(summary: dict, path: Path) -> None:
    table = Table(title=f"{summary['model']} on {summary['dataset']}: {summary['steps']} steps")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary["metrics"].items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    throughput = summary["throughput"]
    table.add_row("images/s", f"{throughput['images_per_s']:.0f}")
    if throughput.get("processes", 1) > 1:
        table.add_row("processes × batch", f"{throughput['processes']} × {throughput['batch_size_per_process']} "
                                           f"= {throughput['global_batch_size']}")
    table.add_row("train seconds", f"{summary['train_seconds']:.1f}")
    for key, value in summary["counters"].items():
        table.add_row(key, str(value))
    out.print(table)
    for warning in summary.get("warnings", []):
        err.print(f"[yellow]warning[/] (step {warning['step']}): {warning['message']}", highlight=False)
    if summary.get("status") == "time-limit":
        err.print(f"[yellow]{summary['stopped']}[/]: the metrics above are those of step {summary['steps']}; "
                  f"continue with `ganzoo run {summary['model']} --resume {path}`", highlight=False)
    out.print(f"run directory: {path}")


@app.command("presets")
def list_presets() -> None:
    """List every preset in registry.toml and check each against its plugin's schema."""
    from .presets import validate_preset

    table = Table(title="registry.toml presets")
    for column in ("preset", "model", "dataset", "status"):
        table.add_column(column)
    bad = 0
    for name, preset in all_presets().items():
        try:
            validate_preset(name, preset, registry.get(preset.model))
            status = "ok"
        except (RegistryError, PresetError) as error:
            status, bad = f"[red]{error}[/]", bad + 1
        table.add_row(name, preset.model, preset.dataset, status)
    out.print(table)
    if bad:
        raise typer.Exit(1)


def report(run_dir: Annotated[Path, typer.Argument(help="A run directory written by `ganzoo run`")],
           html: Annotated[bool, typer.Option("--html", help="Also write report.html (one file, images "
                                              "embedded)")] = False) -> None:
    """(Re)write RUN_DIR/report.md with its plots from the run's own files."""
    from .report import write_html, write_report

    if not (run_dir / "config.json").is_file():
        fail(f"{run_dir} is not a run directory (no config.json): pass the folder `ganzoo run` wrote")
    out.print(f"wrote {write_report(run_dir)}")
    if html:
        out.print(f"wrote {write_html(run_dir)}")


def _register_commands() -> None:
    """Commands that live in their own modules (one file, one idea)."""
    from .bench_cli import bench
    from .eval_cli import classifier_train, eval_command
    from .check_cli import check
    from .sample_cli import sample
    from .translate_cli import translate

    app.command("bench")(bench)
    app.command("eval")(eval_command)
    app.command("sample")(sample)
    app.command("report")(report)
    app.command("translate")(translate)
    app.command("check")(check)
    classifier = typer.Typer(help="The harness's own feature/digit classifier.", no_args_is_help=True)
    classifier.command("train")(classifier_train)
    app.add_typer(classifier, name="classifier")


_register_commands()


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's to fix: printed as one clear line, never as a traceback."""
    from .bench import BenchError
    from .checkpoint import CheckpointError
    from .metrics import MetricError
    from .sample_cli import SampleError

    return USER_ERRORS + (BenchError, CheckpointError, MetricError, SampleError)


def main() -> None:
    try:
        app()
    except _user_errors() as error:  # raised outside a command's own handling, e.g. a broken registry.toml
        err.print(f"[bold red]error:[/] {error}", highlight=False)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
