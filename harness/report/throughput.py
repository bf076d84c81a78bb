"""Throughput: images/s, time per phase, data-loading share and peak memory, per process and in total.

Phase times use CUDA events on GPU (read once per log interval, so the loop never waits for
them) and ``perf_counter`` on CPU, where kernels run synchronously. Wall-clock training time
is read after a device synchronisation at each log point, so images/s is never flattered by
queued GPU work. Definitions (in ``metrics.jsonl`` and ``summary.json`` under ``throughput``):

* ``images_per_s``: iterations × global batch size per second of training (evaluation and
  checkpoint time excluded); ``iterations_per_s``; ``global_batch_size`` = batch × processes;
* ``ms_per_PHASE_step``: mean time of one repeat of a phase (forward, backward, update);
* ``data_share``: fraction of loop time spent drawing batches and moving them to the device;
* ``peak_memory_mb``: CUDA max allocated on GPU, else the process's peak RSS; ``peak_rss_mb``;
* ``per_process``: the same, per rank, when several processes train.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from typing import Any

import torch


class PhaseClock:
    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cuda = device.type == "cuda"
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._pending: list[tuple[str, Any, Any]] = []

    def start(self) -> Any:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def stop(self, name: str, token: Any) -> None:
        self.calls[name] += 1
        if self.cuda:
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            self._pending.append((name, token, end))
        else:
            self.seconds[name] += time.perf_counter() - token

    def flush(self) -> None:
        if self._pending:
            self._pending[-1][2].synchronize()
            for name, start, end in self._pending:
                self.seconds[name] += start.elapsed_time(end) / 1000
            self._pending.clear()


class Throughput:
    def __init__(self, device: torch.device, batch_size: int, world: int) -> None:
        self.device, self.batch_size, self.world = device, batch_size, world
        self.phases = PhaseClock(device)
        self.data_seconds = 0.0
        self.train_seconds = 0.0
        self.steps = 0  # iterations timed (excludes iterations before a resume)
        self._started: float | None = None

    def resume_clock(self) -> None:
        self._synchronize()
        self._started = time.perf_counter()

    def pause_clock(self, steps_done: int) -> None:
        """Add the time since resume_clock() for ``steps_done`` iterations."""
        if self._started is None:
            return
        self._synchronize()
        self.train_seconds += time.perf_counter() - self._started
        self.steps += steps_done
        self._started = None

    def _synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def peak_memory(self) -> dict[str, float]:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
        cuda = torch.cuda.max_memory_allocated(self.device) / 2**20 if self.device.type == "cuda" else None
        return {"peak_memory_mb": cuda if cuda is not None else rss, "peak_rss_mb": rss}

    def local(self) -> dict[str, float]:
        """This process's figures."""
        self.phases.flush()
        seconds = max(self.train_seconds, 1e-9)
        phase_total = sum(self.phases.seconds.values())
        result = {
            "iterations_per_s": self.steps / seconds,
            "images_per_s": self.steps * self.batch_size / seconds,
            "data_share": self.data_seconds / max(self.data_seconds + phase_total, 1e-9),
            **self.peak_memory(),
        }
        for name, total in self.phases.seconds.items():
            result[f"ms_per_{name}_step"] = 1000 * total / max(self.phases.calls[name], 1)
        return result

    def combine(self, per_process: list[dict[str, float]]) -> dict[str, Any]:
        """The run's figures from every process's ``local()`` (rank 0's timings; memory: max and total)."""
        main = dict(per_process[0])
        # ranks step in lockstep: the run's rate is rank 0's iterations/s times the global batch
        main["images_per_s"] = main["iterations_per_s"] * self.batch_size * self.world
        main["global_batch_size"] = self.batch_size * self.world
        main["batch_size_per_process"] = self.batch_size
        main["processes"] = self.world
        main["peak_memory_mb"] = max(p["peak_memory_mb"] for p in per_process)
        main["peak_memory_mb_total"] = sum(p["peak_memory_mb"] for p in per_process)
        if len(per_process) > 1:
            main["per_process"] = per_process
        return main

    def state_dict(self) -> dict[str, Any]:
        self.phases.flush()
        return {"data_seconds": self.data_seconds, "train_seconds": self.train_seconds, "steps": self.steps,
                "phase_seconds": dict(self.phases.seconds), "phase_calls": dict(self.phases.calls)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.data_seconds = float(state["data_seconds"])
        self.train_seconds = float(state["train_seconds"])
        self.steps = int(state["steps"])
        self.phases.seconds = defaultdict(float, state["phase_seconds"])
        self.phases.calls = defaultdict(int, state["phase_calls"])
