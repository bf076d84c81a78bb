"""One entry of a ``throughput`` suite: a preset at one precision and process count, timed by `ganzoo run`.

The entry runs the same command a user would type (``ganzoo run MODEL --preset P --precision X
--processes N``) in a child process, because several processes must be launched by the harness's
own launcher and a speed measured inside the bench's process would share its threads and caches.
Metrics are switched off (``train.evaluate=false``): only the training loop is timed, and its
``summary.json`` carries images/s, ms per D and G step, peak memory and the AMP skip counters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

THROUGHPUT_FIELDS = ("images_per_s", "iterations_per_s", "peak_memory_mb", "data_share", "global_batch_size",
                     "processes")  # and every phase's ms_per_PHASE_step


def command(entry: dict[str, Any], run_dir: Path, *, steps: int | None, batch_size: int | None,
            data_dir: Path | None, time_limit_s: float, cuda: bool) -> list[str]:
    """The `ganzoo run` command line of one entry (through this interpreter, so the same install runs)."""
    args = [sys.executable, "-m", "ganzoo.harness.cli", "run", entry["model"], "--preset", entry["preset"],
            "--precision", entry["precision"], "--seed", str(entry["seed"]), "--out", str(run_dir), "--no-progress",
            "--time-limit", f"{time_limit_s:.0f}", "--set", "train.evaluate=false", "--set", "train.sample_every=0",
            "--set", "train.checkpoint_every=0"]
    if steps:
        args += ["--steps", str(steps)]
    if batch_size:
        args += ["--batch-size", str(batch_size)]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    if entry["processes"] > 1:
        args += ["--gpus", str(entry["processes"])] if cuda else ["--cpu", "--processes", str(entry["processes"])]
    return args


def run_throughput_entry(entry: dict[str, Any], run_dir: Path, *, steps: int | None, batch_size: int | None,
                         data_dir: Path | None, time_limit_s: float, window: bool = False) -> dict[str, Any]:
    """The fields of a bench record: status, throughput, counters; the child's last output when it failed.

    ``window``: the time limit is the measurement window (the suite's ``measure_s``), so reaching it is
    the normal end of the entry, not a budget overrun."""
    import torch

    args = command(entry, run_dir, steps=steps, batch_size=batch_size, data_dir=data_dir,
                   time_limit_s=time_limit_s, cuda=torch.cuda.is_available())
    # a hung child is stopped well after its own time limit would have ended training
    finished = subprocess.run(args, capture_output=True, text=True, timeout=time_limit_s + 600)
    summary_path = run_dir / "summary.json"
    if finished.returncode != 0 or not summary_path.is_file():
        tail = (finished.stderr or finished.stdout).strip().splitlines()[-8:]
        return {"status": "failed", "error": f"`ganzoo run` exited with {finished.returncode}: " + " | ".join(tail),
                "command": args[1:]}
    summary = json.loads(summary_path.read_text())
    counters = summary.get("counters", {})
    finite = not any(key.endswith(("nonfinite_loss", "nonfinite_grad")) for key in counters)
    over = summary["status"] == "time-limit" and not window
    status = "non-finite" if not finite else ("time-limit" if over else "ok")
    throughput = {key: value for key, value in summary["throughput"].items()
                  if key in THROUGHPUT_FIELDS or (key.startswith("ms_per_") and key.endswith("_step"))}
    return {"status": status, "dataset": summary["dataset"], "steps": summary["steps"], "throughput": throughput,
            "counters": counters, "amp_skipped": summary["precision"]["amp_skipped"],
            "stopped": summary.get("stopped"), "environment": summary.get("environment"), "command": args[1:]}


__all__ = ["command", "run_throughput_entry"]
