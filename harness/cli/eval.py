"""``ganzoo eval RUN_DIR`` and ``ganzoo eval --samples PATH --dataset NAME``: score a run, or anyone's samples.

A run's result is appended to its ``summary.json`` under ``evaluations`` with the protocol of every
number, so a later evaluation (more samples, another extractor) never overwrites an earlier one.
Samples (a folder of images, an .npy/.npz of arrays, a .pt tensor file, from any generator) are
scored under the same protocols as a run's own, against the same reference images a run with
``--seed`` would use. Both are thin layers over ``ganzoo.evaluate`` (``harness.api.scoring``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .common import fail

RUN_SEED = 2024  # = harness.api.scoring.RUN_SEED (not imported: `ganzoo --help` must not load torch)


def evaluate_run(*args, **kwargs):
    """``harness.api.scoring.evaluate_run`` (kept importable from here)."""
    from ..api.scoring import evaluate_run as run_evaluation

    return run_evaluation(*args, **kwargs)


def eval_command(
    run_dir: Annotated[Optional[Path], typer.Argument(metavar="RUN_DIR", help="A run directory written by `ganzoo run` (or use "
                                                      "--samples)")] = None,
    samples: Annotated[Optional[Path], typer.Option("--samples", help="Score these samples instead of a run: a folder "
                                                    "of images, an .npy/.npz array or a .pt tensor file")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="With --samples: the dataset they imitate (mnist, "
                                                   "stacked-mnist, cifar10, ring, grid, folder:PATH)")] = None,
    metrics: Annotated[Optional[str], typer.Option(help="Comma-separated: fid,kid,prdc,is,modes,accuracy")] = None,
    extractor: Annotated[Optional[str], typer.Option(help="mnist-cnn | inception | timm:NAME")] = None,
    extractor_weights: Annotated[Optional[Path], typer.Option("--extractor-weights",
                                                             help="Local weights file for the extractor")] = None,
    n: Annotated[Optional[int], typer.Option("--n", help="Generated samples (and real ones); default 10000 for a "
                                             "run, every sample given with --samples")] = None,
    checkpoint: Annotated[str, typer.Option(help="last | best | STEP")] = "last",
    generator: Annotated[str, typer.Option("--generator", metavar="raw|ema", help="A run's trained generator (raw, "
                                           "the default everywhere) or its EMA")] = "raw",
    seed: Annotated[Optional[int], typer.Option(help=f"A run: noise seed (default {RUN_SEED}). --samples: score as a "
                                                "run with this train.seed would (its reference draw; default 0)")] = None,
    value_range: Annotated[Optional[str], typer.Option("--range", help="With --samples: the scale of float image "
                                                       "values, -1,1 (default) | 0,1 | 0,255 (uint8: 0,255)")] = None,
    key: Annotated[Optional[str], typer.Option("--key", help="With --samples: the array to read from an .npz or a "
                                               ".pt dict")] = None,
    resolution: Annotated[Optional[int], typer.Option("--resolution", help="With --samples: images of this square "
                                                      "size, scored as a run with train.resolution=N does")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Where datasets live")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Score a saved run (appended to its summary.json), or a folder/array of samples from any generator."""
    if (run_dir is None) == (samples is None):
        fail("give a run directory or --samples PATH (with --dataset), not both" if run_dir else
             "give a run directory to evaluate, or --samples PATH --dataset NAME to score samples")
    if samples is not None and dataset is None:
        fail("--samples needs --dataset: the dataset the samples imitate (mnist, stacked-mnist, cifar10, ring, grid, "
             "folder:PATH)")
    if samples is not None and generator != "raw":
        fail("--generator applies to a run directory; samples are scored as given")
    if generator not in ("raw", "ema"):
        fail(f"--generator takes raw (the trained weights) or ema (their moving average), got {generator!r}")
    if run_dir is not None and (dataset or value_range or key or resolution):
        fail("--dataset, --range, --key and --resolution apply to --samples only; a run's are in its config.json")
    if run_dir is not None and not (run_dir / "config.json").is_file():
        fail(f"{run_dir} is not a run directory (no config.json): pass the folder `ganzoo run` wrote")
    chosen = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    from ..api.scoring import evaluate

    record = evaluate(run_dir if run_dir is not None else samples, dataset=dataset, metrics=chosen, extractor=extractor,
                      n=n, seed=seed, data_dir=data_dir, checkpoint=checkpoint, value_range=value_range, key=key,
                      extractor_weights=extractor_weights, resolution=resolution, generator=generator)
    if as_json:
        Console().print_json(json.dumps(record, default=str))
        return
    if run_dir is not None:
        title = f"{run_dir}: checkpoint {checkpoint}, {record['generator']} generator, n = {record['n']}"
    else:
        title = f"{record['samples']} as {dataset} samples, n = {record['n']}"
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("extractor")
    for name, value in record["metrics"].items():
        table.add_row(name, f"{value:.4g}", str(record["protocol"].get(name, {}).get("extractor", "") or ""))
    Console().print(table)


def classifier_train(
    dataset: Annotated[str, typer.Argument(metavar="DATASET", help="Only 'mnist' has a harness-trained classifier")] = "mnist",
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", metavar="DIR", help="Where datasets live")] = None,
    force: Annotated[bool, typer.Option("--force", help="Retrain even when a cached classifier exists")] = False,
) -> None:
    """Train (or load from the cache) an MNIST classifier with the shipped one's recipe on this machine's data, and
    print its held-out accuracy. The metrics keep using the shipped classifier unless given these weights."""
    from ..data.storage import data_root
    from ..contract.errors import MetricError
    from ..metrics.protocol import default_cache_dir
    from ..metrics.classifier import train_mnist_classifier

    if dataset != "mnist":
        raise MetricError(f"no harness classifier for {dataset!r}; only 'mnist' (it also scores stacked-mnist)")
    from ..metrics.classifier import NOT_COMPARABLE

    _, report = train_mnist_classifier(data_root(data_dir).path, default_cache_dir(), force=force)
    Console().print_json(json.dumps(report, default=str))
    Console(stderr=True).print(f"note: {report['weights_path']}: {NOT_COMPARABLE}", highlight=False)
