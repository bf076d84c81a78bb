"""``ganzoo eval RUN_DIR``: re-evaluate a saved run with chosen metrics and extractor.

The result is appended to ``summary.json`` under ``evaluations`` with the protocol of every
number, so a later evaluation (more samples, another extractor) never overwrites an earlier one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

ALIASES = {"modes": "stacked-mnist", "accuracy": "conditional-accuracy", "prdc": "prdc", "fid": "fid",
           "kid": "kid", "is": "is", "stacked-mnist": "stacked-mnist", "conditional-accuracy": "conditional-accuracy",
           "coverage-per-class": "class-coverage", "class-coverage": "class-coverage"}


def evaluate_run(run_dir: Path, *, metrics: list[str] | None = None, extractor: str | None = None, n: int = 10_000,
                 which: str | int = "last", data_dir: Path | None = None, seed: int = 2024,
                 extractor_weights: Path | None = None) -> dict[str, Any]:
    """Evaluate the checkpoint ``which`` of a run; returns the record appended to summary.json."""
    import torch  # here, not at the top: `ganzoo --help` must not load torch

    from ..contract.config import RunConfig
    from ..contract.spec import DataKind
    from ..data.catalog import open_dataset
    from ..data.request import DataRequest
    from ..evaluation.images import ImageEvalPlan, default_plan, evaluate_images
    from ..evaluation.scoring import balanced_labels, evaluate_with_protocols, generate
    from ..metrics import MetricError
    from ..report.rundir import write_json_atomic
    from ..train.checkpoint import load_networks
    from ..train.locations import data_dir_for, extractor_weights_for

    device = torch.device("cpu")
    plugin, nets, ema = load_networks(run_dir, which=which, device=device)
    run = RunConfig.from_run_dir(run_dir)
    data_dir = data_dir_for(run_dir, data_dir)  # the folder the run recorded, unless told otherwise
    if extractor in (None, run.train.eval_extractor):  # the run's own network: its recorded weights fit
        extractor_weights = extractor_weights_for(run_dir, extractor_weights)
        extractor = extractor or run.train.eval_extractor
    source = open_dataset(run.dataset, DataRequest(seed=run.train.seed, data_dir=data_dir,
                                                   resolution=run.train.resolution, holdout=run.train.holdout))
    sampling = ema or nets
    if source.info.kind != DataKind.images:
        if metrics or extractor:
            raise MetricError(f"{run.dataset} is {source.info.kind.value} data: only its mixture metrics apply; "
                              "drop --metrics/--extractor")
        values, protocols = evaluate_with_protocols(plugin, sampling, source, n, seed, device, data_dir)
    else:
        plan = default_plan(run.dataset, plugin.spec.conditional, extractor)
        if metrics:
            unknown = [m for m in metrics if m not in ALIASES]
            if unknown:
                raise MetricError(f"unknown metric(s) {unknown}; choose from {sorted(ALIASES)}")
            plan = ImageEvalPlan(plan.extractor, tuple(dict.fromkeys(ALIASES[m] for m in metrics)), plan.reason)
        if plan.extractor is None:
            raise MetricError(plan.reason)
        labels = balanced_labels(n, source.info.num_classes, device) if plugin.spec.conditional else None
        fake = generate(plugin, sampling, n, seed, device, labels=labels)
        options = {"weights": extractor_weights} if extractor_weights else None
        values, protocols = evaluate_images(fake, labels, source, plan, data_dir=data_dir, device=device, seed=seed,
                                            extractor_options=options)
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "checkpoint": which, "ema": ema is not None,
              "n": n, "seed": seed, "metrics": values, "protocol": protocols}
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    summary.setdefault("evaluations", []).append(record)
    write_json_atomic(summary_path, summary)
    return record


def eval_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `ganzoo run`")],
    metrics: Annotated[Optional[str], typer.Option(metavar="NAMES", help="Comma-separated: fid,kid,prdc,is,modes,accuracy")] = None,
    extractor: Annotated[Optional[str], typer.Option(metavar="NAME", help="mnist-cnn | inception | timm:NAME")] = None,
    extractor_weights: Annotated[Optional[Path], typer.Option("--extractor-weights", metavar="FILE",
                                                             help="Local weights file for the extractor")] = None,
    n: Annotated[int, typer.Option("--n", metavar="N", help="Generated samples (and real ones)")] = 10_000,
    checkpoint: Annotated[str, typer.Option(metavar="WHICH", help="last | best | STEP")] = "last",
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", metavar="DIR", help=(
        "Where datasets live (default: $GANZOO_DATA, else the folder the run recorded)"))] = None,
) -> None:
    """Re-evaluate a saved run and append the result (with its protocol) to its summary.json."""
    record = evaluate_run(run_dir, metrics=metrics.split(",") if metrics else None, extractor=extractor, n=n,
                          which=int(checkpoint) if checkpoint.isdigit() else checkpoint, data_dir=data_dir,
                          extractor_weights=extractor_weights)
    table = Table(title=f"{run_dir}: checkpoint {checkpoint}{' (EMA)' if record['ema'] else ''}, n = {n}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("extractor")
    for name, value in record["metrics"].items():
        table.add_row(name, f"{value:.4g}", str(record["protocol"].get(name, {}).get("extractor", "")))
    Console().print(table)


def classifier_train(
    dataset: Annotated[str, typer.Argument(metavar="DATASET", help="Only 'mnist' has a harness-trained classifier")] = "mnist",
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", metavar="DIR", help="Where datasets live")] = None,
    force: Annotated[bool, typer.Option("--force", help="Retrain even when a cached classifier exists")] = False,
) -> None:
    """Train (or load from the cache) the MNIST classifier the metrics use, and print its held-out accuracy."""
    from ..data.locations import data_root
    from ..metrics import MetricError
    from ..metrics.cache import default_cache_dir
    from ..metrics.classifier import train_mnist_classifier

    if dataset != "mnist":
        raise MetricError(f"no harness classifier for {dataset!r}; only 'mnist' (it also scores stacked-mnist)")
    _, report = train_mnist_classifier(data_root(data_dir).path, default_cache_dir(), force=force)
    Console().print_json(json.dumps(report, default=str))
