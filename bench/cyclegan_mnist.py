"""The CycleGAN reference run of docs/cyclegan.md: train on mnist-thickness through the harness, then
score label preservation in both directions and write a translation grid.

    python bench/cyclegan_mnist.py --data-dir ../shared/data --out runs/cyclegan-mnist [--steps N] [--set key=value ...]

Uses the preset ``cyclegan/mnist-thickness`` of registry.toml (overrides with ``--set``), the real
``Trainer``, and ``harness.metrics.label_preservation`` with the harness's cached MNIST classifier.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from ganzoo.harness.evaluation.plugin_scoring import evaluate_translator
from ganzoo.harness.report.plots import image_grid
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-eval", type=int, default=2000)
    parser.add_argument("--grid", type=Path, default=None, help="also copy the translation grid here")
    parser.add_argument("--set", dest="assignments", action="append", default=[])
    args = parser.parse_args()

    overrides = {"seed": args.seed, **({"steps": args.steps} if args.steps else {})}
    run, plugin = resolve_run("cyclegan", dataset="mnist-thickness", train_overrides=overrides,
                              assignments=args.assignments)
    trainer = Trainer(run, plugin, RunDir(args.out), data_dir=args.data_dir, cpu=True, progress=True)
    started = time.perf_counter()
    summary = trainer.fit()
    train_wall = time.perf_counter() - started

    torch.set_num_threads(1)
    result = evaluate_translator(trainer.plugin, trainer.sampling_networks(), trainer.source, args.data_dir,
                                 n=args.n_eval, seed=12345)
    pair = trainer.source.reference_pair(8, seed=777)
    nets = trainer.sampling_networks()
    grid = trainer.plugin.translation_grid(nets, pair.real, pair.real_b)
    grid_path = args.out / "samples" / "translations.png"
    image_grid(grid, grid_path, nrow=6)
    if args.grid:
        image_grid(grid, args.grid, nrow=6)
    record = {"steps": summary["steps"], "train_wall_s": round(train_wall, 1),
              "train_seconds": summary["train_seconds"], "config": run.model_dump(mode="json"),
              "scores": result.scores, "protocol": result.protocol}
    (args.out / "label_preservation.json").write_text(json.dumps(record, indent=2))
    print(json.dumps({"steps": record["steps"], "train_wall_s": record["train_wall_s"], **result.scores}, indent=2))


if __name__ == "__main__":
    main()
