"""Start-up cost of the `ganzoo` command: what a user waits for before anything happens.

Run with ``pytest bench/test_bench_startup.py`` (add ``-s`` to see the one-line summary). Each round
starts a fresh interpreter, as a shell does. Targets on an idle machine: ``ganzoo --help`` ≤ 0.5 s
(it must not import torch: ``tests/test_cli_conventions.py`` checks that), ``ganzoo list`` ≤ 2 s
(it imports every plugin, hence torch). On a loaded machine the numbers grow with the load; the
benchmark reports them and asserts nothing about time.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

TARGETS_S = {"--help": 0.5, "list": 2.0, "typo": 0.5}
COMMANDS = {"--help": ["--help"], "list": ["list"], "typo": ["rnu"]}


def _run(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", *args], capture_output=True, check=False,
                   env={**os.environ, "COLUMNS": "100"}, timeout=300)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.benchmark(group="cli-startup", min_rounds=5, warmup=True)
def test_startup(benchmark, command):
    benchmark.pedantic(_run, args=(COMMANDS[command],), rounds=5, iterations=1, warmup_rounds=1)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(target_s=TARGETS_S[command], median_s=round(median, 3))
    print(f"\nganzoo {' '.join(COMMANDS[command])}: median {median:.2f} s over 5 runs "
          f"(target ≤ {TARGETS_S[command]} s on an idle machine; load average {os.getloadavg()[0]:.1f})")
