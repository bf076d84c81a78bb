"""`ganzoo run MODEL`: train a model and write its run directory, in this process or, with
``--gpus``/``--processes``/``--num-machines``, as a launched data-parallel run whose workers run
this same command (``train.launch.worker_command``). torch and the trainer load only when training.
Options become a run exactly as ``ganzoo.train`` makes one (``api.training.prepare_run`` and
``open_trainer``); what only a command has (launching processes, the summary table) stays here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.table import Table

from .common import err, fail, out


def run(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Model name (see `ganzoo list`)")],
    dataset: Annotated[Optional[str], typer.Option(metavar="NAME", help="ring, grid, mnist, synthetic, … or folder:PATH (default: the model's)")] = None,
    preset: Annotated[Optional[str], typer.Option(metavar="NAME", help="Preset from registry.toml (default: MODEL/DATASET)")] = None,
    steps: Annotated[Optional[int], typer.Option(metavar="N", help="Training iterations (default: the preset's)")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", metavar="N", help="Batch size per process (default: the preset's)")] = None,
    seed: Annotated[Optional[int], typer.Option(metavar="N", help="Random seed (default: the preset's, else 0)")] = None,
    precision: Annotated[Optional[str], typer.Option(metavar="MODE", help="auto | fp32 | bf16 | fp16 (default: the preset's, else auto: bf16 where the hardware runs it natively, else fp32)")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="RUN_DIR", help="Run directory (default runs/MODEL-DATASET-TIME)")] = None,
    assignments: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Override a field: key=value "
                                                             "(model field, or train.FIELD)")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", metavar="DIR", help="Where datasets live "
                                                     "(default $GANZOO_DATA, else the folder a resumed run "
                                                     "recorded, else the user cache)")] = None,
    download: Annotated[bool, typer.Option("--download", help="Download missing dataset files (needs network)")] = False,
    cpu: Annotated[bool, typer.Option("--cpu", help="Train on the CPU even if a GPU is present")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Plain log lines instead of a live bar")] = False,
    resume: Annotated[Optional[Path], typer.Option("--resume", metavar="RUN_DIR", help="Continue the run in this directory from its "
                                                   "latest checkpoint (only --steps may change)")] = None,
    gpus: Annotated[Optional[int], typer.Option("--gpus", metavar="N", help="Train data-parallel on N GPUs of this machine "
                                                "(one process each)")] = None,
    processes: Annotated[Optional[int], typer.Option("--processes", metavar="N", help="Data-parallel processes on this machine; "
                                                     "with --cpu, N CPU processes over gloo")] = None,
    num_machines: Annotated[int, typer.Option("--num-machines", metavar="M", help="Machines in a multi-node run")] = 1,
    machine_rank: Annotated[int, typer.Option("--machine-rank", metavar="R", help="This machine's rank (0 … machines−1)")] = 0,
    main_address: Annotated[Optional[str], typer.Option("--main-address", metavar="HOST", help="Host of machine rank 0 "
                                                        "(multi-node)")] = None,
    main_port: Annotated[Optional[int], typer.Option("--main-port", metavar="PORT", help="Port on the main host (default: a free "
                                                     "port on one machine, 29500 across machines)")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=1, metavar="SECONDS", help="Stop training after this many "
                                                        "seconds, evaluate and keep a checkpoint to resume from")] = None,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html beside report.md")] = False,
    log_with: Annotated[Optional[str], typer.Option("--log-with", help="Experiment trackers, comma-separated: "
                                                    "tensorboard, wandb, mlflow, trackio (local/offline by default; "
                                                    "pip install 'ganzoo[NAME]')")] = None,
    extractor_weights: Annotated[Optional[Path], typer.Option("--extractor-weights", metavar="FILE", help=(
        "Local weights of the metrics' feature network (train.eval_extractor), e.g. the FID Inception file "
        "on a machine without network"))] = None,
) -> None:
    """Train MODEL and write a run directory (config, metrics, checkpoints, samples, summary).

    Ctrl-C (SIGINT) or SIGTERM finishes the current step, writes a checkpoint and exits with code 130; `ganzoo run MODEL --resume RUN_DIR` continues bit for bit.
    """  # noqa: E501 - one paragraph per line: --help wraps it to the terminal
    from ..api.training import open_trainer, prepare_run
    from ..contract.errors import GanzooError, NonFiniteStop
    from ..train.launch import LOST_PEER_EXIT_CODE, is_worker, lost_peer, plan, worker_command
    from ..train.trainer import INTERRUPTED_EXIT_CODE  # torch loads only when training

    worker = is_worker()
    quiet = worker and os.environ.get("RANK", "0") != "0"  # only rank 0 of a launched run speaks
    overrides = {key: value for key, value in (("steps", steps), ("batch_size", batch_size), ("seed", seed),
                                               ("precision", precision)) if value is not None}
    try:
        config, plugin, path = prepare_run(model, dataset=dataset, preset=preset, out=out_dir, resume=resume,
                                           train_overrides=overrides, assignments=assignments or [],
                                           log_with=log_with)
        if not worker and (launch_plan := plan(
                gpus=gpus, processes=processes, cpu=cpu, num_machines=num_machines, machine_rank=machine_rank,
                main_address=main_address, main_port=main_port, cpu_threads=config.train.cpu_threads,
                sync_batchnorm=config.train.sync_batchnorm)) is not None:
            command = worker_command(model, path, resume is not None, dataset=dataset, preset=preset,
                                     overrides=overrides, assignments=assignments or [], data_dir=data_dir,
                                     download=download, cpu=cpu, no_progress=no_progress, time_limit=time_limit,
                                     html=html, log_with=log_with, extractor_weights=extractor_weights)
            flags = f" --gpus {gpus}" if gpus else (f"{' --cpu' if cpu else ''} --processes {processes}"
                                                     if processes else "")
            _run_launched(launch_plan, command, config, Path(path), model, claim=resume is None and machine_rank == 0,
                          resume_flags=flags)
        trainer = open_trainer(config, plugin, path, resume=resume is not None, worker=worker, data_dir=data_dir,
                               download=download, cpu=cpu, progress=not no_progress, time_limit=time_limit,
                               log_with=log_with, extractor_weights=extractor_weights)
        if trainer.state.is_main and not worker:
            action = f"resuming from step {trainer.state.step}" if resume is not None else "training"
            err.print(f"{action} [bold]{config.model}[/] on [bold]{config.dataset}[/]"
                      f"{f' (preset {config.preset})' if config.preset else ''} → {trainer.state.run_dir.path}",
                      highlight=False)
        summary = trainer.fit()
    except NonFiniteStop as error:  # a GanzooError with its own exit code
        fail(str(error), code=3, quiet=quiet)
    except GanzooError as error:
        fail(str(error), quiet=quiet)
    except RuntimeError as error:  # another process died: the launcher names it (launch.WorkerLost)
        if not (worker and lost_peer(error)):
            raise
        raise typer.Exit(LOST_PEER_EXIT_CODE) from None
    if html and trainer.state.is_main:
        from ..report.markdown import write_html

        write_html(trainer.state.run_dir.path)
    if summary["status"] == "interrupted":
        raise typer.Exit(INTERRUPTED_EXIT_CODE)
    if not worker:
        print_summary(summary, trainer.state.run_dir.path)


def _run_launched(launch_plan, command: list[str], config, path: Path, model: str, *, claim: bool,
                  resume_flags: str) -> NoReturn:
    """Train in the plan's processes, each running ``ganzoo COMMAND…`` (``train.launch``), and end with their
    exit code: claim the run directory (a new run, on machine rank 0), say what starts, and after a
    successful run print rank 0's summary; a lost worker is one line and the command that resumes."""
    from ..contract.errors import WorkerLost
    from ..report.rundir import RunDir
    from ..train.launch import launch

    if claim:
        RunDir(path)  # claim it (atomically) before starting anything
    device = "CPU" if launch_plan.cpu else "GPU"
    err.print(f"training [bold]{config.model}[/] on [bold]{config.dataset}[/] with "
              f"{launch_plan.world_size} {device} processes (global batch {launch_plan.world_size} × "
              f"{config.train.batch_size} = {launch_plan.world_size * config.train.batch_size}) → {path}",
              highlight=False)
    try:
        code = launch(launch_plan, command)
    except WorkerLost as error:
        fail(f"{error}. {resume_advice(path, model, resume_flags)}", code=1)
    summary_path = path / "summary.json"
    if code == 0 and launch_plan.machine_rank == 0 and summary_path.is_file():
        print_summary(json.loads(summary_path.read_text()), path)
    raise typer.Exit(code)


def resume_advice(path: Path, model: str, flags: str = "") -> str:
    """The last checkpoint of the run in ``path`` and the command that continues from it."""
    from ..train.checkpoint import CheckpointStore

    latest = CheckpointStore(path / "checkpoints").latest()
    if latest is None:
        return (f"No checkpoint was written before it stopped, so {path} cannot be resumed; start a new run "
                "(checkpoints come every train.checkpoint_every iterations and every train.checkpoint_every_s "
                "seconds of training)")
    return f"Last checkpoint: {latest}. Resume with: ganzoo run {model} --resume {path}{flags}"


def _cell(value) -> str:
    return "–" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))


def print_summary(summary: dict, path: Path) -> None:
    table = Table(title=f"{summary['model']} on {summary['dataset']}: {summary['steps']} steps")
    by_generator = {label: metrics for label, metrics in (summary.get("metrics_by_generator") or {}).items()
                    if metrics}
    scored = summary.get("scored_generator", "raw")
    labels = [label for label in ("raw", "ema") if label in by_generator] or [scored]
    table.add_column("metric")
    for label in labels:  # the trained generator, and its average when the run kept one
        title = {"raw": "trained G", "ema": "EMA of G"}[label] + (" (scored)" if len(labels) > 1 and
                                                                    label == scored else "")
        table.add_column(title, justify="right")
    metrics = by_generator or {scored: summary["metrics"]}
    for key in dict.fromkeys(name for label in labels for name in metrics.get(label, {})):
        table.add_row(key, *[_cell(metrics.get(label, {}).get(key)) for label in labels])
    throughput = summary["throughput"]
    pad = [""] * (len(labels) - 1)
    table.add_row("images/s", f"{throughput['images_per_s']:.0f}", *pad)
    if throughput.get("processes", 1) > 1:
        table.add_row("processes × batch", f"{throughput['processes']} × {throughput['batch_size_per_process']} "
                                           f"= {throughput['global_batch_size']}", *pad)
    table.add_row("train seconds", f"{summary['train_seconds']:.1f}", *pad)
    for key, value in summary["counters"].items():
        table.add_row(key, str(value), *pad)
    out.print(table)
    for warning in summary.get("warnings", []):
        err.print(f"[yellow]warning[/] (step {warning['step']}): {warning['message']}", highlight=False)
    if summary.get("status") == "time-limit":
        err.print(f"[yellow]{summary['stopped']}[/]: the metrics above are those of step {summary['steps']}; "
                  f"continue with `ganzoo run {summary['model']} --resume {path}`", highlight=False)
    from ..report.reading import reading

    config_path = Path(path) / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else None
    scored_by = "the EMA of G" if scored == "ema" and len(labels) > 1 else ""
    line = reading(summary.get("metrics"), config, summary.get("evaluated", True))  # False: train.evaluate=false
    out.print(f"reading{f' ({scored_by})' if scored_by else ''}: {line}", highlight=False, soft_wrap=True)
    out.print(f"report: {Path(path) / 'report.md'}", highlight=False, soft_wrap=True)
    out.print(f"run directory: {path}", highlight=False, soft_wrap=True)
