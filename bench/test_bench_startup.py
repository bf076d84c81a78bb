"""Start-up cost of the `ganzoo` command: what a user waits for before anything happens.

Run with ``pytest bench/test_bench_startup.py`` (add ``-s`` to see the one-line summaries). Each round
starts a fresh interpreter, as a shell does. Targets on an idle machine: ``ganzoo --help`` ≤ 0.5 s
(it must not import torch: ``tests/cli/test_conventions.py`` checks that), ``ganzoo list`` ≤ 2 s.
``list`` answers from its remembered listing (``harness/cli/list_cache.py``); ``list (first call)``
starts from an empty cache each round, so it imports every plugin and torch. On a loaded machine the
numbers grow with the load; the benchmark prints them with the load average and asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

TARGETS_S = {"--help": 0.5, "list": 2.0, "list (first call)": 2.0, "typo": 0.5}
COMMANDS = {"--help": ["--help"], "list": ["list"], "list (first call)": ["list"], "typo": ["rnu"]}


def _run(args: list[str], cache: str | None = None) -> None:
    env = {**os.environ, "COLUMNS": "100", **({"GANZOO_CACHE": cache} if cache else {})}
    subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", *args], capture_output=True, check=False,
                   env=env, timeout=300)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.benchmark(group="cli-startup")
def test_startup(benchmark, command, tmp_path):
    cache = str(tmp_path / "cache")
    if command == "list (first call)":
        benchmark.pedantic(_run, setup=lambda: ((COMMANDS[command], tempfile.mkdtemp(dir=tmp_path)), {}),
                           rounds=5, iterations=1)
    else:
        benchmark.pedantic(_run, args=(COMMANDS[command], cache), rounds=5, iterations=1, warmup_rounds=1)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(target_s=TARGETS_S[command], median_s=round(median, 3))
    print(f"\nganzoo {command}: median {median:.2f} s over 5 runs (target ≤ {TARGETS_S[command]} s on an idle "
          f"machine; load average {os.getloadavg()[0]:.1f})")
