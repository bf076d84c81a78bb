"""GPU training speed: the harness against the careful hand loop, fp32 vs bf16 vs torch.compile (GUIDE §6).

For a DCGAN of MNIST size (1×32×32, base 32, batch 64) and of CIFAR-10 size (3×32×32, base 64, batch
128), on synthetic in-memory images (the speed does not depend on the pixels; no download needed):
per precision mode, interleaved rounds of ``--iters`` iterations of the harness (``Trainer.train_iteration``)
and of ``bench/careful_loop.py`` (own copies of the networks in PyTorch's default layout), timed with CUDA
events after a warm-up (compilation included in the warm-up, reported apart). Writes JSON and Markdown:

    python bench/gpu_speed.py --out results/ [--rounds 6 --iters 20]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.careful_loop import CarefulLoop  # noqa: E402
from ganzoo.harness.contract.model_spec import DataKind  # noqa: E402
from ganzoo.harness.data.catalog import DatasetEntry, register_dataset  # noqa: E402
from ganzoo.harness.data.tensor_source import ImageTensorSource  # noqa: E402
from ganzoo.harness.report.rundir import RunDir  # noqa: E402
from ganzoo.harness.train.resolve import resolve_run  # noqa: E402
from ganzoo.harness.train.trainer import Trainer  # noqa: E402

SIZES = {  # name -> channels, base_channels, batch
    "mnist-sized": (1, 32, 64),
    "cifar10-sized": (3, 64, 128),
}
MODES = {"fp32": ("fp32", False), "bf16": ("bf16", False), "bf16+compile": ("bf16", True)}


def register(name: str, channels: int) -> None:
    def open_synthetic(dataset: str, request) -> ImageTensorSource:
        images = torch.randint(0, 256, (8192, channels, 32, 32), dtype=torch.uint8,
                               generator=torch.Generator().manual_seed(0))
        return ImageTensorSource(dataset, images, None, request.seed)

    register_dataset(DatasetEntry(name, DataKind.images, f"synthetic {channels}×32×32", open_synthetic))


def cuda_time(fn, iters: int) -> float:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000 / iters


def measure(size: str, mode: str, rounds: int, iters: int) -> dict:
    channels, base, batch = SIZES[size]
    precision, compiled = MODES[mode]
    run, plugin = resolve_run("dcgan", dataset=size, train_overrides={
        "steps": 10**6, "batch_size": batch, "precision": precision, "log_every": 10**6, "evaluate": False,
        "compile": compiled}, assignments=[f"base_channels={base}"])
    trainer = Trainer(run, plugin, RunDir(Path(tempfile.mkdtemp())), progress=False)

    def harness() -> None:
        trainer.train_iteration()
        trainer.set_step(trainer.step + 1)

    G, D = (copy.deepcopy(net).to(memory_format=torch.contiguous_format) for net in (trainer.nets.G, trainer.nets.D))
    data = trainer.source.images.float().div_(127.5).sub_(1.0)
    loop = CarefulLoop(G, D, data, batch, plugin_latent(trainer), trainer.precision.dtype)
    started = time.perf_counter()
    for fn in (harness, loop):  # warm-up (and compilation)
        for _ in range(5):
            fn()
    torch.cuda.synchronize()
    warmup_s = time.perf_counter() - started
    ratios, harness_s, loop_s = [], [], []
    for r in range(rounds):
        order = (harness, loop) if r % 2 == 0 else (loop, harness)
        times = {fn: cuda_time(fn, iters) for fn in order}
        harness_s.append(times[harness])
        loop_s.append(times[loop])
        ratios.append(times[loop] / times[harness])
    return {"size": size, "mode": mode, "batch": batch, "warmup_s": warmup_s,
            "harness_images_per_s": batch / statistics.median(harness_s),
            "loop_images_per_s": batch / statistics.median(loop_s),
            "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "peak_memory_mb": torch.cuda.max_memory_allocated() / 2**20}


def plugin_latent(trainer: Trainer) -> int:
    return trainer.plugin.config.latent_dim


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not torch.cuda.is_available():
        print("gpu_speed: no CUDA device here; nothing measured")
        return
    for size, (channels, _, _) in SIZES.items():
        register(size, channels)
    results = []
    for size in SIZES:
        for mode in args.modes.split(","):
            try:
                results.append(measure(size, mode, args.rounds, args.iters))
            except Exception as error:  # noqa: BLE001 - one failing mode must not hide the others
                results.append({"size": size, "mode": mode, "error": f"{type(error).__name__}: {error}"})
            print(json.dumps(results[-1]), flush=True)
            torch.cuda.reset_peak_memory_stats()
    device = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda}
    (args.out / "gpu_speed.json").write_text(json.dumps({"device": device, "results": results}, indent=2))
    lines = [f"GPU: {device['gpu']}, torch {device['torch']}, CUDA {device['cuda']}; DCGAN, CUDA events, "
             f"{args.rounds} interleaved rounds × {args.iters} iterations", "",
             "| size | mode | harness images/s | careful loop images/s | harness ÷ loop (median [range]) | "
             "warm-up s | peak MB |", "|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['size']} | {r['mode']} | failed: {r['error']} | | | | |")
        else:
            lines.append(f"| {r['size']} | {r['mode']} | {r['harness_images_per_s']:.0f} | "
                         f"{r['loop_images_per_s']:.0f} | {r['ratio_median']:.3f} [{r['ratio_min']:.3f}–"
                         f"{r['ratio_max']:.3f}] | {r['warmup_s']:.1f} | {r['peak_memory_mb']:.0f} |")
    (args.out / "gpu_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
