"""Training speed of the harness against the careful hand-written loop (``bench/careful_loop.py``).

Both sides use the plugin's own networks, the same optimizer, batch, precision and losses, on one torch
thread. The loop is what GUIDE §6 calls careful: data as one float tensor, the G step reusing the D
step's fakes, D frozen during the G step. Two measurements, each interleaved (A B A B) so that load
from other jobs on a shared machine hits both sides alike; ``bench/conftest.py`` prints the median
ratio and its range:

* **steady state**: blocks of iterations, harness (``Trainer.train_iteration``) then loop, repeated;
  ratio = harness images/s ÷ loop images/s (≥ 1: the harness is at least as fast);
* **whole process** (``GANZOO_BENCH_PROCESS=1``, slow): ``ganzoo run dcgan --dataset mnist --steps 300
  --precision bf16 --set train.evaluate=false`` against ``python bench/careful_loop.py --steps 300`` in
  subprocesses; ratio = ganzoo wall time ÷ script wall time (≤ 1.05 is the target).

    GANZOO_SHARED_DATA=/path/to/data pytest bench/test_bench_training_step.py --benchmark-only -s
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.trainer import Trainer

from .careful_loop import CarefulLoop
from .conftest import RATIOS, SHARED_DATA

CASES = {  # group -> (model, dataset, batch, precision, overrides)
    "dcgan-mnist-fp32": ("dcgan", "mnist", 64, "fp32", []),
    "dcgan-mnist-bf16": ("dcgan", "mnist", 64, "bf16", []),
}
PAIRS = int(os.environ.get("GANZOO_BENCH_PAIRS", "8"))  # interleaved A B rounds
BLOCK = int(os.environ.get("GANZOO_BENCH_BLOCK", "10"))  # iterations per side per round


def make_trainer(tmp_path, model, dataset, batch, precision, overrides, steps: int = 10):
    if dataset == "mnist" and not (SHARED_DATA / "mnist").exists():
        pytest.skip(f"needs MNIST in {SHARED_DATA} (set GANZOO_SHARED_DATA)")
    run, plugin = resolve_run(model, dataset=dataset, train_overrides={
        "steps": steps, "batch_size": batch, "precision": precision, "cpu_threads": 1, "log_every": 100},
        assignments=overrides)  # the dcgan/mnist preset: 32×32, base 32
    return Trainer(run, plugin, RunDir(tmp_path), data_dir=SHARED_DATA, cpu=True, progress=False)


def careful_loop(trainer: Trainer, channels_last: bool = False) -> CarefulLoop:
    """The hand loop over copies of the trainer's networks and its data (all images as one float tensor), in
    PyTorch's default memory layout unless ``channels_last`` (then the layout the harness uses by default)."""
    layout = torch.channels_last if channels_last else torch.contiguous_format
    G, D = (copy.deepcopy(net).to(memory_format=layout) for net in (trainer.nets.G, trainer.nets.D))
    data = trainer.source.images.float().div_(127.5).sub_(1.0).to(trainer.device)
    return CarefulLoop(G, D, data, trainer.run.train.batch_size, trainer.plugin.config.latent_dim,
                       trainer.precision.dtype)


def harness_iteration(trainer: Trainer):
    """``train_iteration`` as the loop calls it: a log record (diagnostics, gradient norms) every log_every."""
    def iteration() -> None:
        measure = (trainer.step + 1) % trainer.run.train.log_every == 0
        trainer.train_iteration(measure)
        trainer.set_step(trainer.step + 1)
        if measure:
            trainer.window.record(trainer.step, trainer.nets, trainer.optimizers, trainer.spectral, trainer.dist,
                                  trainer.throughput, trainer.counters)
    return iteration


def interleaved(a, others: list, pairs: int, block: int) -> list[list[float]]:
    """Per round: time ``block`` calls of a and of each other function, in an order reversed every round
    (A B C, C B A, …) so that neither side always goes first; per other function, the ratios
    time(other)/time(a) of each round."""
    functions = [a, *others]
    for f in functions:  # warm-up: allocator, autocast caches, first-call overheads
        for _ in range(3):
            f()
    ratios: list[list[float]] = [[] for _ in others]
    for round_ in range(pairs):
        times = [0.0] * len(functions)
        order = range(len(functions)) if round_ % 2 == 0 else reversed(range(len(functions)))
        for i in order:
            start = time.perf_counter()
            for _ in range(block):
                functions[i]()
            times[i] = time.perf_counter() - start
        for i in range(len(others)):
            ratios[i].append(times[i + 1] / times[0])
    return ratios


@pytest.mark.parametrize("group", sorted(CASES))
def test_steady_state_harness_vs_careful_loop(benchmark, tmp_path, group):
    trainer = make_trainer(tmp_path, *CASES[group])
    harness = harness_iteration(trainer)
    # loop time / harness time = harness throughput ratio
    plain, same_layout = interleaved(harness, [careful_loop(trainer), careful_loop(trainer, channels_last=True)],
                                     PAIRS, BLOCK)
    RATIOS.append((f"{group} steady images/s, harness ÷ careful loop", plain, ">= 1.0"))
    RATIOS.append((f"{group} steady images/s, harness ÷ careful loop in channels_last too (harness overhead "
                   "alone)", same_layout, "info"))
    benchmark.group = group
    benchmark.extra_info.update(side="harness", batch=CASES[group][2])
    benchmark.pedantic(harness, rounds=10, warmup_rounds=1)


@pytest.mark.parametrize("group", sorted(CASES))
def test_careful_loop_iteration(benchmark, tmp_path, group):
    trainer = make_trainer(tmp_path, *CASES[group])
    benchmark.group = group
    benchmark.extra_info.update(side="plain", batch=CASES[group][2])
    benchmark.pedantic(careful_loop(trainer), rounds=10, warmup_rounds=1)


@pytest.mark.skipif(not os.environ.get("GANZOO_BENCH_PROCESS"), reason="whole-process timing is slow (~10 "
                    "min): set GANZOO_BENCH_PROCESS=1 (GANZOO_BENCH_PROCESS_PAIRS rounds, default 4)")
def test_whole_process_ganzoo_run_vs_script(tmp_path):
    if not (SHARED_DATA / "mnist").exists():
        pytest.skip(f"needs MNIST in {SHARED_DATA}")
    steps = os.environ.get("GANZOO_BENCH_STEPS", "300")
    script = [sys.executable, str(Path(__file__).with_name("careful_loop.py")), "--data-dir", str(SHARED_DATA),
              "--steps", steps]
    ganzoo = [sys.executable, "-m", "ganzoo.harness.cli", "run", "dcgan", "--dataset", "mnist", "--steps", steps,
              "--precision", "bf16", "--set", "train.evaluate=false", "--data-dir", str(SHARED_DATA), "--no-progress"]
    env = {**os.environ, "GANZOO_CACHE": str(tmp_path / "cache")}
    subprocess.run([*ganzoo, "--out", str(tmp_path / "warm")], check=True, env=env, capture_output=True)  # cache
    ratios = []
    for i in range(int(os.environ.get("GANZOO_BENCH_PROCESS_PAIRS", "4"))):
        seconds = {}
        sides = [("ganzoo", ganzoo), ("script", script)]
        for name, args in (sides if i % 2 == 0 else sides[::-1]):  # the order flips every pair: load drifts
            start = time.perf_counter()
            subprocess.run([*args, "--out", str(tmp_path / f"{name}{i}")], check=True, env=env, capture_output=True)
            seconds[name] = time.perf_counter() - start
        ratios.append(seconds["ganzoo"] / seconds["script"])
        print(f"pair {i}: ganzoo {seconds['ganzoo']:.1f} s, script {seconds['script']:.1f} s, "
              f"ratio {ratios[-1]:.3f}", flush=True)
    RATIOS.append((f"dcgan-mnist-bf16 whole process ({steps} steps), ganzoo run ÷ script wall time", ratios,
                   "<= 1.05"))
