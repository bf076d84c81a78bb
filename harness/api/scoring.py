"""``ganzoo.evaluate(...)``: score a run's checkpoint, a loaded generator, or samples from anywhere.

- a run (``Run`` or its directory): :func:`evaluate_run`, what ``ganzoo eval RUN_DIR`` does — the
  checkpoint's trained generator (or, asked, its EMA) on ``n`` samples, the record appended to summary.json;
- a :class:`Generator` (e.g. from an exported file): ``n`` of its samples, scored on its dataset;
- samples — a folder of images, an .npy/.npz/.pt file, a tensor or array — with ``dataset=``: what
  ``ganzoo eval --samples PATH --dataset NAME`` does (``evaluation.external``).

Samples are scored exactly as a run with ``train.seed = seed`` scores its own: the same reference
images (the run's held-out split, drawn with ``seed + EVAL_SEED_OFFSET``), extractor and protocol, so
the numbers are comparable with a run's summary.json and equal for equal samples.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from ..contract.config import DEFAULT_GENERATOR, RunConfig
from ..contract.errors import ConfigError, MetricError
from ..contract.model_spec import DataKind
from ..data.catalog import dataset_kind, open_dataset
from ..data.base import DataRequest
from ..evaluation.external import Samples, image_extractor, read_samples, score_samples
from ..evaluation.images import choose_plan, evaluate_images
from ..evaluation.plugin_scoring import evaluate_with_protocols
from ..evaluation.sampling import balanced_labels, generate
from ..report.rundir import write_json_atomic
from ..train.checkpoint import load_networks, pick_generator
from ..train.evaluator import EVAL_SEED_OFFSET
from ..train.resume import data_dir_for, extractor_weights_for
from .generator import Generator

RUN_SEED = 2024  # `ganzoo eval RUN_DIR`'s default seed (noise and reference draw)


def evaluate_run(run_dir: Path, *, metrics: list[str] | None = None, extractor: str | None = None, n: int = 10_000,
                 which: str | int = "last", data_dir: Path | None = None, seed: int = RUN_SEED,
                 extractor_weights: Path | None = None, generator: str = DEFAULT_GENERATOR) -> dict[str, Any]:
    """Evaluate the checkpoint ``which`` of a run, through its trained generator (``raw``, the default
    everywhere) or its EMA (``ema``); returns the record appended to summary.json, labelled with it."""
    run_dir = Path(run_dir)
    device = torch.device("cpu")
    plugin, nets, ema = load_networks(run_dir, which=which, device=device)
    run = RunConfig.from_run_dir(run_dir)
    data_dir = data_dir_for(run_dir, data_dir)  # the folder the run recorded, unless told otherwise
    if extractor in (None, run.train.eval_extractor):  # the run's own network: its recorded weights fit
        extractor_weights = extractor_weights_for(run_dir, extractor_weights)
        extractor = extractor or run.train.eval_extractor
    source = open_dataset(run.dataset, DataRequest(seed=run.train.seed, data_dir=data_dir,
                                                   resolution=run.train.resolution, holdout=run.train.holdout))
    sampling = pick_generator(nets, ema, generator, run_dir)
    if source.info.kind != DataKind.images:
        if metrics or extractor:
            raise MetricError(f"{run.dataset} is {source.info.kind.value} data: only its mixture metrics apply; "
                              "drop --metrics/--extractor")
        values, protocols = evaluate_with_protocols(plugin, sampling, source, n, seed, device, data_dir)
    else:
        plan = choose_plan(run.dataset, plugin.spec.conditional, extractor, metrics)
        if plan.extractor is None:
            raise MetricError(plan.reason)
        labels = balanced_labels(n, source.info.num_classes, device) if plugin.spec.conditional else None
        fake = generate(plugin, sampling, n, seed, device, labels=labels)
        options = {"weights": extractor_weights} if extractor_weights else None
        values, protocols = evaluate_images(fake, labels, source, plan, data_dir=data_dir, device=device, seed=seed,
                                            extractor_options=options)
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "checkpoint": which, "generator": generator,
              "ema": generator == "ema",
              "n": n, "seed": seed, "metrics": values, "protocol": protocols}
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    summary.setdefault("evaluations", []).append(record)
    write_json_atomic(summary_path, summary)
    return record


def score(samples: Any, dataset: str, *, metrics: list[str] | None = None, extractor: str | None = None,
          n: int | None = None, seed: int = 0, data_dir: Path | None = None, holdout: int = 2000,
          value_range: str | None = None, key: str | None = None, labels: Any = None,
          extractor_weights: Path | None = None, resolution: int | None = None) -> dict[str, Any]:
    """Samples from anywhere, scored as a run with ``train.seed = seed`` on ``dataset`` scores its own."""
    options = {"weights": extractor_weights} if extractor_weights else None
    if dataset_kind(dataset) == DataKind.images:  # a missing feature network is named before any data is decoded
        extractor = image_extractor(dataset, extractor, options)
    source = open_dataset(dataset, DataRequest(seed=seed, data_dir=Path(data_dir) if data_dir else None,
                                               holdout=holdout, resolution=resolution))
    if source.info.kind not in (DataKind.images, DataKind.points2d):
        raise ConfigError(f"{dataset} is {source.info.kind.value} data; samples can be scored on image and 2-D "
                          "point datasets (mnist, stacked-mnist, cifar10, folder:PATH, ring, grid)")
    found = samples if isinstance(samples, Samples) else read_samples(samples, source.info, value_range=value_range,
                                                                      key=key, labels=labels)
    if n is not None:
        if n < 1 or n > len(found):
            raise ConfigError(f"--n must be between 1 and the {len(found)} samples given, got {n}")
        found = Samples(found.values[:n], None if found.labels is None else found.labels[:n], found.origin)
    values, protocols = score_samples(found, source, seed=seed + EVAL_SEED_OFFSET, metrics=metrics,
                                      extractor=extractor, data_dir=Path(data_dir) if data_dir else None,
                                      extractor_options=options)
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "samples": found.origin, "dataset": dataset,
            "n": len(found), "seed": seed, "metrics": values, "protocol": protocols}


def evaluate(what: Any, *, dataset: str | None = None, metrics: list[str] | str | None = None,
             extractor: str | None = None, n: int | None = None, seed: int | None = None,
             data_dir: str | Path | None = None, checkpoint: str | int = "last", holdout: int = 2000,
             value_range: str | None = None, key: str | None = None, labels: Any = None,
             extractor_weights: str | Path | None = None, resolution: int | None = None,
             generator: str = DEFAULT_GENERATOR) -> dict[str, Any]:
    """Metrics (with the protocol of each) of a run, a generator, or samples; see the module docstring.

    ``metrics``: fid, kid, prdc, is, modes, accuracy, class-coverage (images; 2-D points always get
    modes_captured, hq_fraction, reverse_kl). ``extractor``: mnist-cnn (MNIST-like data's default),
    inception (CIFAR-10's when its weights are here), timm:NAME. ``seed``: for samples, the ``train.seed``
    whose reference draw to use (0); for a run, the noise seed (2024, as ``ganzoo eval``); for a generator,
    its run's ``train.seed`` (with ``n`` its ``train.eval_samples``: the numbers its run reported). ``value_range``:
    ``"0,1"`` or ``"0,255"`` when float samples are not in [-1, 1]. ``generator``: a run's ``raw`` (trained,
    the default) or ``ema`` generator. ``resolution``: score images of another
    square size as a run with that ``train.resolution`` does (reference images resized to it). Returns ``{"metrics", "protocol", …}``."""
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    data_dir = Path(data_dir) if data_dir else None
    weights = Path(extractor_weights) if extractor_weights else None
    path = getattr(what, "path", what)
    if isinstance(path, (str, Path)) and (Path(path) / "config.json").is_file():
        saved = RunConfig.from_run_dir(Path(path))
        if dataset is not None and dataset != saved.dataset:
            raise ConfigError(f"{path} is a run on {saved.dataset}; dataset={dataset!r} applies to samples only")
        which = int(checkpoint) if isinstance(checkpoint, str) and checkpoint.isdigit() else checkpoint
        return evaluate_run(Path(path), metrics=metrics, extractor=extractor, n=n or 10_000, which=which,
                            data_dir=data_dir, seed=RUN_SEED if seed is None else seed, extractor_weights=weights,
                            generator=generator)
    if isinstance(what, Generator):  # by default exactly as its run scored it at the end
        train = what.run.train
        count, run_seed = n or train.eval_samples, train.seed if seed is None else seed
        drawn = what.sample(count, seed=run_seed + EVAL_SEED_OFFSET)
        labels = what.labels(count, None) if what.num_classes else None
        return score(drawn, dataset or what.dataset, metrics=metrics, extractor=extractor or train.eval_extractor,
                     seed=run_seed, data_dir=data_dir, holdout=train.holdout, labels=labels,
                     extractor_weights=weights, resolution=train.resolution)
    if dataset is None:
        raise ConfigError("scoring samples needs the dataset they imitate: dataset='mnist', 'stacked-mnist', "
                          "'cifar10', 'ring', 'grid', … (--dataset on the command line)")
    return score(what, dataset, metrics=metrics, extractor=extractor, n=n, seed=seed or 0, data_dir=data_dir,
                 holdout=holdout, value_range=value_range, key=key, labels=labels, extractor_weights=weights,
                 resolution=resolution)
