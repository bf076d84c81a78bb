"""Where a suite's entries run: in this process one after the other, or as submitit jobs.

`submitit <https://github.com/facebookincubator/submitit>`_ (a maintained client for SLURM, with a
local executor that runs the same jobs as subprocesses) does the scheduling; ganzoo only chooses
what to submit and gathers the records as jobs finish:

* ``local``: up to ``jobs`` entries at once on this machine, each in its own process;
* ``slurm``: one SLURM job per entry (``slurm_array_parallelism`` = ``jobs``), on ``partition`` with
  ``gpus`` GPUs per job — a throughput entry's ``--gpus N`` runs inside its job.

Both pickle the same call (``suites.run_entry(entry, suite, out, data_dir)``) and return the same
record, so results.json, ``--resume`` and the leaderboard do not know which executor ran an entry.
A job that dies (killed, out of time, out of memory) becomes a ``failed`` record with submitit's
message; ``--resume`` runs it again. Stopping the submitting command (Ctrl-C, SIGTERM) cancels the
jobs still running, so none outlives it and races a later ``--resume``.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..contract.errors import ExecutorError

ExecutorKind = Literal["inline", "local", "slurm"]


@dataclass(frozen=True)
class ExecutorOptions:
    kind: ExecutorKind = "inline"
    jobs: int = 1  # entries running at once (local), or the array's parallelism (slurm)
    partition: str | None = None
    gpus: int = 0  # per job
    cpus: int | None = None  # per job
    timeout_min: int | None = None  # per job (default: the suite's budget plus a margin)
    slurm: dict[str, Any] = field(default_factory=dict)  # any other submitit slurm_* parameter, without prefix

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ExecutorError(f"--jobs must be ≥ 1, got {self.jobs}")
        if self.kind != "slurm" and (self.partition or self.slurm):
            raise ExecutorError("--partition and SLURM options need --executor slurm")


def _executor(options: ExecutorOptions, folder: Path, timeout_min: int):
    try:
        import submitit
    except ImportError:
        raise ExecutorError("--executor local/slurm runs entries through submitit: "
                            "pip install 'ganzoo[cluster]' (or pip install submitit)") from None
    if options.kind == "local":
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=timeout_min, **({"gpus_per_node": options.gpus} if options.gpus else {}))
        return executor
    executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    parameters: dict[str, Any] = {"timeout_min": timeout_min, "slurm_array_parallelism": options.jobs,
                                  "name": "ganzoo-bench", "nodes": 1, "tasks_per_node": 1}
    if options.partition:
        parameters["slurm_partition"] = options.partition
    if options.gpus:
        parameters["gpus_per_node"] = options.gpus
    if options.cpus:
        parameters["cpus_per_task"] = options.cpus
    parameters.update({f"slurm_{key}": value for key, value in options.slurm.items()})
    executor.update_parameters(**parameters)
    return executor


def run_jobs(function: Callable[..., dict[str, Any]], calls: list[tuple[str, tuple]], options: ExecutorOptions,
             folder: Path, budget_s: float) -> Iterator[tuple[str, dict[str, Any]]]:
    """``function(*args)`` for each ``(key, args)``; yields ``(key, record)`` as each finishes."""
    if options.kind == "inline":
        for key, args in calls:
            yield key, function(*args)
        return
    timeout_min = options.timeout_min or int(budget_s // 60) + 15
    executor = _executor(options, folder, timeout_min)
    pending = list(calls)
    # slurm queues everything (the array parallelism bounds it); locally we keep `jobs` processes busy
    window = len(pending) if options.kind == "slurm" else options.jobs
    running: list[tuple[str, Any]] = []
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None  # SIGTERM unwinds like Ctrl-C
    try:
        while pending or running:
            while pending and len(running) < window:
                key, args = pending.pop(0)
                running.append((key, executor.submit(function, *args)))
            finished = [(key, job) for key, job in running if job.done()]
            if not finished:
                time.sleep(0.5 if options.kind == "local" else 15)
                continue
            for key, job in finished:
                running.remove((key, job))
                yield key, _result(job)
    except BaseException:  # interrupted, or the caller stopped reading: no job may outlive the suite
        for _, job in running:
            _cancel(job)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _cancel(job) -> None:
    """Stop a running job. A SLURM job is cancelled (scancel). A local job gets SIGTERM: submitit's local
    controller forwards SIGTERM to the training process, whose handler stops at a checkpoint, whereas
    submitit's ``cancel`` sends the controller a SIGINT that leaves the training process running."""
    process = getattr(job, "_process", None)
    if process is not None:
        process.send_signal(signal.SIGTERM)
    else:
        job.cancel(check=False)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _result(job) -> dict[str, Any]:
    try:
        return job.result()
    except Exception as error:  # noqa: BLE001 - a dead job is a failed entry, not a dead suite
        lines = str(error).strip().splitlines()
        return {"status": "failed", "error": f"job {job.job_id}: {type(error).__name__}: "
                + " | ".join(lines[-6:]), "seconds": 0.0, "over_budget": False}


__all__ = ["ExecutorError", "ExecutorOptions", "run_jobs"]
