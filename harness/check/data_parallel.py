"""The data-parallel check: two CPU processes, spawned with ``torch.multiprocessing`` and joined in
a gloo group through Accelerate as launched runs are, train the plugin with the harness's gradient
averaging; their replicas must end bit-identical. Each worker writes its result (or its error) to
the check's folder, which the check reads back.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .session import CheckSession, Fail, error_text

DATA_PARALLEL_TIMEOUT_S = 300.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data_parallel_worker(rank: int, world: int, port: int, payload: dict[str, Any], out_dir: str) -> None:
    """One process of the data-parallel check (spawned: imports only what it needs)."""
    out = Path(out_dir)
    log = open(out / f"rank{rank}.log", "w")  # noqa: SIM115 - fds 1 and 2 point here until the process exits
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world), OMP_NUM_THREADS="1",
                      GANZOO_EXPECTED_PROCESSES=str(world))
    import torch

    torch.set_num_threads(1)
    from ..contract import registry
    from ..contract.config import RunConfig
    from ..report.rundir import RunDir
    from ..train.trainer import Trainer

    try:
        plugin = registry.get(payload["model"])
        run = RunConfig.model_validate_json(payload["run"])
        data_dir = Path(payload["data_dir"]) if payload.get("data_dir") else None
        trainer = Trainer(run, plugin, RunDir(out / "run", resume=True), data_dir=data_dir, cpu=True, progress=False,
                          evaluate_and_plot=False)
        summary = trainer.fit()
        result = {"distributed": summary["distributed"], "steps": summary["steps"], "status": summary["status"],
                  "counters": summary["counters"],
                  # the plugin state as raw bytes: compared across ranks as it is, never synced first
                  "state": {key: value.detach().cpu().contiguous().numpy().tobytes().hex()
                            for key, value in trainer.state.ctx.state.items()}}
    except BaseException as error:
        (out / f"rank{rank}.error").write_text(error_text(error) + "\n" + traceback.format_exc())
        raise
    (out / f"rank{rank}.json").write_text(json.dumps(result))


def check_data_parallel(session: CheckSession) -> str:
    import logging

    import torch.multiprocessing as mp
    from torch.multiprocessing.spawn import ProcessException

    session.need_run()
    session.need_contract()
    session.need_intervals()
    world = session.processes
    out = session.fresh_dir("data-parallel")
    out.mkdir(parents=True)
    payload = {"model": session.name, "run": session.run.model_dump_json(),
               "data_dir": str(session.data_dir) if session.data_dir else None}
    logging.getLogger("torch.multiprocessing.spawn").setLevel(logging.ERROR)  # its SIGTERM notes are noise
    context = mp.start_processes(_data_parallel_worker, args=(world, _free_port(), payload, str(out)),
                                 nprocs=world, join=False, start_method="spawn")
    deadline = time.monotonic() + DATA_PARALLEL_TIMEOUT_S
    try:
        while not context.join(timeout=1.0):
            if time.monotonic() > deadline:
                for process in context.processes:
                    process.kill()
                raise Fail(f"{world} processes did not finish within {DATA_PARALLEL_TIMEOUT_S:.0f} s (a "
                           "collective waits forever when ranks run different phases or numbers of steps)")
    except ProcessException:
        errors = sorted(out.glob("rank*.error"))
        if errors:
            rank = errors[0].name.removesuffix(".error")
            raise Fail(f"{rank} failed: {errors[0].read_text().splitlines()[0]}") from None
        logs = " | ".join(p.read_text().strip().splitlines()[-1] for p in sorted(out.glob("rank*.log"))
                          if p.read_text().strip())
        raise Fail(f"a process died without a Python error: {logs or 'no output'}") from None
    results = [json.loads((out / f"rank{r}.json").read_text()) for r in range(world)]
    for rank, result in enumerate(results):
        dist = result["distributed"]
        if dist["processes"] != world:
            raise Fail(f"rank {rank} saw {dist['processes']} processes, not {world}")
        if result["status"] != "completed":
            raise Fail(f"rank {rank} ended with status {result['status']!r}")
        if dist["replicas_identical"] is not True:
            raise Fail(f"the {world} processes' copies of the networks differ after {result['steps']} steps: the "
                       "plugin changes weights outside the optimizers' steps in a rank-dependent way, or keeps "
                       "parameters that no phase updates in sync")
        if result.get("state") != results[0].get("state"):
            differing = sorted(k for k in results[0]["state"] if result["state"].get(k) != results[0]["state"][k])
            raise Fail(f"the plugin state {differing} differs between rank 0 and rank {rank} after {result['steps']} "
                       "steps: each process updated it from its own part of the batch; average what the update "
                       "uses with ctx.mean_over_processes(...) in Phase.after_step")
    state = f" and plugin state {sorted(results[0]['state'])}" if results[0].get("state") else ""
    return (f"{world} gloo processes × batch {session.run.train.batch_size} "
            f"(global {world * session.run.train.batch_size}): replicas{state} bit-identical after "
            f"{results[0]['steps']} steps")
