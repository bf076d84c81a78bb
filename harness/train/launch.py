"""Start the N training processes of one run through Accelerate's launcher (users never type `accelerate launch`).

``ganzoo run MODEL --gpus N`` and ``ganzoo run MODEL --cpu --processes N`` re-run the same
``ganzoo run`` command in N worker processes, started by Accelerate's multi-process launcher
(``accelerate.commands.launch.multi_gpu_launcher``, i.e. torchrun's elastic agent). On CPU the
workers get ``ACCELERATE_USE_CPU=true`` and form a gloo process group (plain
``accelerate launch --cpu --num_processes N`` would silently start one process). Every worker
checks that the process group has the size asked for (``GANZOO_EXPECTED_PROCESSES``).

Multi-node: run the same command on every machine with ``--num-machines M --machine-rank R
--main-address HOST --main-port PORT`` (R = 0 on HOST); ``--gpus``/``--processes`` count the
processes per machine. The run directory must be on a filesystem all machines share.

A worker that dies (killed, out of memory) breaks the others' next collective; they stop quietly
with :data:`LOST_PEER_EXIT_CODE` and :func:`launch` raises :class:`WorkerLost`, naming the process
that died, so the command prints one line and the resume command, not a survivor's gloo traceback.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .distributed import EXPECTED_PROCESSES_ENV
from ..contract.errors import DistributedError, WorkerLost

LAUNCHED_ENV = "GANZOO_LAUNCHED"  # set in workers: run, do not launch again
INTERRUPTED_EXIT_CODE = 130
LOST_PEER_EXIT_CODE = 75  # a worker whose partner process vanished (EX_TEMPFAIL: resume and it works)


def lost_peer(error: BaseException) -> bool:
    """Whether ``error`` is a collective that failed because another process is gone."""
    from torch.distributed import DistError

    text = str(error)
    return isinstance(error, DistError) or (isinstance(error, RuntimeError) and any(
        t in text for t in ("Connection reset by peer", "Connection closed by peer", "Broken pipe", "GLHF",
                            "NCCL communicator was aborted", "ProcessGroupGloo")))


@dataclass(frozen=True)
class LaunchPlan:
    processes: int  # per machine
    cpu: bool
    num_machines: int = 1
    machine_rank: int = 0
    main_address: str | None = None
    main_port: int | None = None
    threads_per_process: int | None = None

    @property
    def world_size(self) -> int:
        return self.processes * self.num_machines


def is_worker() -> bool:
    return os.environ.get(LAUNCHED_ENV) == "1"


def plan(*, gpus: int | None, processes: int | None, cpu: bool, num_machines: int = 1, machine_rank: int = 0,
         main_address: str | None = None, main_port: int | None = None,
         cpu_threads: int | None = None, sync_batchnorm: bool = False) -> LaunchPlan | None:
    """What to launch, or None for a single process in this one. Raises DistributedError with the reason."""
    import torch

    if sync_batchnorm and (cpu or not torch.cuda.is_available()):
        raise DistributedError("train.sync_batchnorm needs CUDA: torch's SyncBatchNorm only runs on GPU tensors "
                               "(its statistics are exchanged with NCCL), so it cannot work on CPU/gloo; "
                               "drop the option or train on GPUs")

    if gpus is not None and cpu:
        raise DistributedError("--gpus and --cpu contradict each other; for CPU processes use --cpu --processes N")
    if gpus is not None and processes is not None and gpus != processes:
        raise DistributedError(f"--gpus {gpus} and --processes {processes} disagree; give one of them")
    count = gpus if gpus is not None else processes
    if count is None:
        count = 1
    if count < 1:
        raise DistributedError(f"the number of processes must be at least 1, got {count}")
    if num_machines < 1 or not 0 <= machine_rank < num_machines:
        raise DistributedError(f"--machine-rank must be in 0 … {num_machines - 1} for --num-machines {num_machines}")
    if num_machines > 1 and not main_address:
        raise DistributedError("a multi-machine run needs --main-address (the host of machine rank 0)")
    if not cpu:
        available = torch.cuda.device_count()
        if gpus is not None and available < gpus:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            note = f" (CUDA_VISIBLE_DEVICES={visible})" if visible is not None else ""
            raise DistributedError(f"--gpus {gpus} asks for {gpus} GPU(s) but this machine has {available}{note}; "
                                   "use fewer, or --cpu --processes N to train on CPU processes")
        if gpus is None and count > 1 and available == 0:
            raise DistributedError(f"--processes {count}: there is no GPU here; add --cpu to run {count} CPU "
                                   "processes")
        if gpus is None and count > available > 0:
            raise DistributedError(f"--processes {count} exceeds the {available} GPU(s) of this machine")
    if count == 1 and num_machines == 1:
        return None
    if main_port is None:
        main_port = 29500 if num_machines > 1 else 0  # 0: a free port, chosen by Accelerate
    if cpu_threads is None:
        cpu_threads = max(1, (os.cpu_count() or 1) // count)
    return LaunchPlan(count, cpu, num_machines, machine_rank, main_address, main_port, cpu_threads)


def worker_command(model: str, path: Path, resume: bool, *, dataset: str | None, preset: str | None,
                   overrides: dict, assignments: list[str], data_dir: Path | None, download: bool, cpu: bool,
                   no_progress: bool, time_limit: float | None = None, html: bool = False,
                   log_with: str | None = None, extractor_weights: Path | None = None) -> list[str]:
    """The `ganzoo run` arguments every launched process receives (the run directory fixed): the same
    command, so each worker resolves the same run (``ganzoo run --gpus N`` builds it from its options)."""
    command = ["run", model, "--resume" if resume else "--out", str(path)]
    for flag, value in (("--dataset", dataset), ("--preset", preset), ("--steps", overrides.get("steps")),
                        ("--batch-size", overrides.get("batch_size")), ("--seed", overrides.get("seed")),
                        ("--precision", overrides.get("precision")), ("--data-dir", data_dir),
                        ("--time-limit", time_limit), ("--log-with", log_with),
                        ("--extractor-weights", extractor_weights)):
        if value is not None:
            command += [flag, str(value)]
    for item in assignments:
        command += ["--set", item]
    command += [flag for flag, on in (("--download", download), ("--cpu", cpu), ("--no-progress", no_progress),
                                      ("--html", html)) if on]
    return command


def launch(launch_plan: LaunchPlan, command: list[str]) -> int:
    """Run ``python -m ganzoo.harness.cli COMMAND…`` in every process of the plan; the workers' exit code."""
    from accelerate.commands.launch import launch_command_parser, multi_gpu_launcher
    from accelerate.utils import patch_environment
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    p = launch_plan
    argv = ["--multi_gpu", "--num_processes", str(p.world_size), "--num_machines", str(p.num_machines),
            "--machine_rank", str(p.machine_rank), "--mixed_precision", "no", "--dynamo_backend", "no",
            "--num_cpu_threads_per_process", str(p.threads_per_process or 1), "--main_process_port", str(p.main_port)]
    if p.main_address:
        argv += ["--main_process_ip", p.main_address]
    if not p.cpu:
        argv += ["--gpu_ids", "all"]
    argv += ["--module", "ganzoo.harness.cli", *command]
    args = launch_command_parser().parse_args(argv)
    args.debug = False
    env = {LAUNCHED_ENV: "1", EXPECTED_PROCESSES_ENV: str(p.world_size)}
    if p.cpu:
        env["ACCELERATE_USE_CPU"] = "true"  # with --multi_gpu: a real gloo process group on CPU
    # the workers report their own errors; keep the elastic agent's summary of them quiet
    import torch.distributed.run  # noqa: F401 - creates the elastic loggers, which set their own levels

    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("torch.distributed.elastic", "torch.distributed.run", "torch.distributed.launcher")):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        with patch_environment(**env):
            multi_gpu_launcher(args)
    except ChildFailedError as error:
        failures = sorted(error.failures.items())
        reported = [f.exitcode for _, f in failures if f.exitcode and f.exitcode > 0 and f.exitcode != LOST_PEER_EXIT_CODE]
        if reported:  # a worker stopped with an error of its own, and printed it
            return reported[0]
        raise WorkerLost(_describe_lost(failures, p.world_size)) from None
    except SignalException:  # Ctrl-C/SIGTERM: the agent forwarded it; the workers checkpointed and stopped
        return INTERRUPTED_EXIT_CODE
    return 0


def _describe_lost(failures: list, world: int) -> str:
    """Which process died and how, e.g. 'training process rank 1 of 2 (pid 2141) was killed by SIGKILL'."""
    killed = [(rank, f) for rank, f in failures if f.exitcode is not None and f.exitcode < 0]
    if any(f.signal_name() != "SIGTERM" for _, f in killed):  # the agent SIGTERMs the survivors: not news
        killed = [(rank, f) for rank, f in killed if f.signal_name() != "SIGTERM"]
    if not killed:
        return (f"a training process lost contact with the others (of {world}) and the run stopped; "
                "its partner ended without an error of its own (killed on another machine, or out of memory)")
    parts = [f"rank {rank} of {world} (pid {f.pid}) was killed by {f.signal_name()}" for rank, f in killed]
    return "training process " + "; ".join(parts) + " (out of memory, or stopped from outside), so the run stopped"
