"""fp32 against bf16 autocast on this CPU, side by side: what ``precision = auto`` decides from.

A figure measured on one CPU is not a default for every CPU: bf16 was 1.7× faster than fp32 on a
CPU with AVX512-BF16 and 19× slower on an AMD Zen 2 without it. This script measures the ratio on the
machine it runs on and prints the CPU's native-bf16 support next to it: steady images/s of the
harness's training iteration (``Trainer.train_iteration``) for a preset, fp32 and bf16 interleaved
(A B A B …, warm-up excluded), median ratio and spread. Synthetic in-memory images of the preset's
shape, so no data is needed:

    python bench/cpu_precision.py [--preset dcgan/mnist] [--rounds 6] [--iters 20] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from ganzoo.harness.report.environment import cpu_bf16_features, cpu_model
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.precision import choose_precision
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.trainer import Trainer


def trainer(preset: str, precision: str, folder: Path) -> Trainer:
    run, plugin = resolve_run(preset.split("/")[0], preset=preset, dataset="synthetic", train_overrides={
        "precision": precision, "evaluate": False, "steps": 10_000, "cpu_threads": 1})
    return Trainer(run, plugin, RunDir(folder / precision), cpu=True, progress=False)


def images_per_s(t: Trainer, iters: int) -> float:
    started = time.perf_counter()
    for _ in range(iters):
        t.train_iteration()
    return iters * t.run.train.batch_size / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="dcgan/mnist")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        trainers = {p: trainer(args.preset, p, Path(folder)) for p in ("fp32", "bf16")}
        for t in trainers.values():
            images_per_s(t, 3)  # warm-up: allocations, oneDNN primitive caches
        speeds: dict[str, list[float]] = {"fp32": [], "bf16": []}
        for _ in range(args.rounds):
            for name, t in trainers.items():
                speeds[name].append(images_per_s(t, args.iters))
    ratios = sorted(b / f for f, b in zip(speeds["fp32"], speeds["bf16"]))
    result = {
        "preset": args.preset, "cpu": cpu_model(), "cpu_native_bf16": cpu_bf16_features(),
        "auto_resolves_to": choose_precision("auto", torch.device("cpu")).resolved, "torch": torch.__version__,
        "images_per_s": {k: statistics.median(v) for k, v in speeds.items()},
        "bf16_over_fp32": {"median": statistics.median(ratios), "min": ratios[0], "max": ratios[-1],
                           "rounds": args.rounds, "iters": args.iters},
    }
    native = ", ".join(result["cpu_native_bf16"]) or "none"
    print(f"{args.preset} on {result['cpu']} (native bf16: {native}; auto → {result['auto_resolves_to']}), one "
          f"thread: fp32 {result['images_per_s']['fp32']:.0f} img/s, bf16 {result['images_per_s']['bf16']:.0f} img/s; "
          f"bf16 ÷ fp32 = {result['bf16_over_fp32']['median']:.2f} [{ratios[0]:.2f}–{ratios[-1]:.2f}] over "
          f"{args.rounds} interleaved rounds of {args.iters} iterations")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    sys.exit(main() and 0)
