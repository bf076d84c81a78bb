"""Checkpoint, resume and rollback: reading and writing a run's state (``run_state.RunState``).

Everything needed to continue exactly is captured: networks, EMA, every optimizer and scaler,
RNG states of every rank, the data order and noise streams, counters, the open log window and
the guard. ``restore`` is the one way back in, used by ``--resume`` (from a file) and by the
non-finite guard's rollback (from the in-memory snapshot of the last good checkpoint). Each
function takes the :class:`RunState`; none sees the loop (after a restore, the loop passes the
restored step on to its parts and forgets what it derived from the old weights).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import set_seed
from torch import Tensor

from ..contract.config import RunConfig
from ..report.diagnostics import TrainingWarning
from ..report.progress import TrainingProgress
from ..contract.errors import CheckpointError, ResumeError, StorageError
from . import checkpoint
from .checkpoint import config_changes
from .ema import GeneratorEMA
from .guard import NonFiniteEvent
from .run_state import RunState


def rank_rng(s: RunState) -> dict[str, Any]:
    return {**checkpoint.capture_rng(s.device), "local_noise": s.ctx.local.generator.get_state()}


def capture(s: RunState, rng: list[Any]) -> dict[str, Any]:
    """Everything needed to continue exactly (tensors reference the live ones: save or copy at once)."""
    s.throughput.phases.flush()
    return {
        "format": checkpoint.FORMAT, "version": checkpoint.VERSION, "model": s.run.model, "step": s.step,
        "config": json.dumps(s.run.model_dump(mode="json")), "data_info": s.data_info.model_dump_json(),
        "world_size": s.dist.world,
        "networks": {name: net.state_dict() for name, net in s.nets.items()},
        "ema": s.ema.state_dict() if s.ema is not None else None,
        "optimizers": {name: opt.state_dict() for name, opt in s.optimizers.items()},
        "scalers": {name: scaler.state_dict() for name, scaler in s.scalers.items()},
        "rng": rng,
        "noise": {"shared": s.ctx.generator.get_state()},
        "plugin_state": dict(s.ctx.state),
        "data": s.source.state_dict(),
        "trainer": {
            "counters": dict(s.counters),
            "throughput": s.throughput.state_dict(),
            "window": s.window.state_dict(),
            "warnings": s.warnings.state_dict(),
            "guard": s.guard.state_dict(),
            "lr_scale": s.rates.scale,
            "plateau": s.rates.plateau_state(),
            "plugin_diagnostics": dict(s.window.plugin_values),
            "last_metrics": checkpoint._plain(s.last_metrics),
            "metrics_by_generator": {k: checkpoint._plain(v) for k, v in s.metrics_by_generator.items()},
        },
    }


def snapshot(s: RunState) -> dict[str, Any]:
    """An in-memory copy of this rank's state: the 'last good checkpoint' a rollback returns to."""
    rng: list[Any] = [None] * s.dist.world
    rng[s.dist.rank] = rank_rng(s)
    return copy_to_cpu(capture(s, rng))


def restore(s: RunState, state: dict[str, Any], *, rollback: bool = False) -> None:
    where = "the checkpoint"
    try:
        checkpoint._load_into(s.nets, state["networks"], Path(where))
        if s.ema is not None:
            if state.get("ema"):
                s.ema.load_state_dict(state["ema"])
            else:  # EMA switched on at resume: start the average from the current weights
                s.ema = GeneratorEMA(s.nets, s.plugin.generators, s.run.train.ema_decay, s.run.train.ema_start,
                                     s.run.train.ema_rampup)
        for name, optimizer in s.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for name, scaler in s.scalers.items():
            scaler.load_state_dict(state["scalers"][name])
            s.scales[name] = float(scaler.get_scale()) if scaler.is_enabled() else 1.0
        s.source.load_state_dict(state["data"])
        s.ctx.generator.set_state(state["noise"]["shared"])
        saved_state = state.get("plugin_state", {})
        if set(saved_state) - set(s.ctx.state):
            raise KeyError(f"plugin state {sorted(saved_state)} does not match initial_state() {sorted(s.ctx.state)}")
        for key, value in saved_state.items():  # bit for bit, on the training device
            s.ctx.state[key] = value.detach().to(s.device, copy=True)
    except (KeyError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{where} does not fit this run ({type(error).__name__}: {error})") from None
    rng = state["rng"]
    mine = rng[s.dist.rank] if s.dist.rank < len(rng) else None
    if mine is not None:
        checkpoint.restore_rng(mine, s.device)
        s.ctx.local.generator.set_state(mine["local_noise"])
    else:
        set_seed(s.run.train.seed + s.dist.rank + 7_777 * state["step"])
    s.step = s.ctx.step = int(state["step"])
    if not rollback:
        saved = state["trainer"]
        s.counters.clear()
        s.counters.update(saved["counters"])
        s.throughput.load_state_dict(saved["throughput"])
        s.window.load_state_dict(saved["window"], s.device)
        s.warnings.load_state_dict(saved["warnings"])
        s.guard.load_state_dict(saved["guard"])
        s.rates.scale = float(saved.get("lr_scale", 1.0))
        s.rates.load_plateau_state(saved.get("plateau", {}))
        s.window.plugin_values = dict(saved.get("plugin_diagnostics", {}))
        s.last_metrics = dict(saved.get("last_metrics", {}))
        s.metrics_by_generator = dict(saved.get("metrics_by_generator", {}))


def resume(s: RunState) -> None:
    """Continue from the run directory's latest checkpoint; only ``train.steps`` may differ."""
    path = s.checkpoints.latest()
    if path is None:
        raise ResumeError(f"{s.run_dir.path} has no checkpoint to resume from (looked in "
                          f"{s.checkpoints.directory})")
    state = checkpoint.read(path, model=s.run.model)
    saved = RunConfig.model_validate(json.loads(state["config"]))
    changed = config_changes(saved.model_dump(mode="json"), s.run.model_dump(mode="json"))
    if changed:
        raise ResumeError(f"{path} was written with a different configuration than {s.run_dir.path}/config.json "
                          "now says (checkpoint → config.json): " + "; ".join(changed) + ". Only train.steps may "
                          "change when a run is resumed: undo the edit, or start a new run with --out")
    if state["step"] >= s.run.train.steps:
        raise ResumeError(f"{s.run_dir.path} has already trained {state['step']} of {s.run.train.steps} "
                          f"steps; pass --steps N with N > {state['step']} to train longer")
    if state["world_size"] != s.dist.world and s.is_main:
        print(f"note: {path} was written by {state['world_size']} process(es), this run has {s.dist.world}; "
              "the continuation is not bit-identical to an uninterrupted run", flush=True)
    restore(s, state)
    s.resumed_from = s.last_checkpoint = path


def save_checkpoint(s: RunState, metrics: dict[str, Any] | None) -> None:
    """Write a checkpoint (rank 0), after making buffers agree; every rank takes part."""
    sync_buffers(s)
    rng = s.dist.gather_objects(rank_rng(s))
    if s.dist.enabled:
        s.replicas_identical = s.dist.replicas_identical(s.nets.values())
    if s.dist.enabled:
        s.state_identical = state_identical(s)
    if s.is_main:
        if s.run.train.best_metric and s.window.plugin_values:  # a plugin diagnostic may rank checkpoints
            metrics = {**diagnostic_metrics(s.window.plugin_values), **(metrics or {})}
        s.last_checkpoint = s.checkpoints.save(s.step, capture(s, rng), metrics)
    s.checkpointed_at = time.monotonic()  # train.checkpoint_every_s counts from here
    if s.run.train.nan_policy == "rollback":
        s.good_state = snapshot(s)


def storage_message(s: RunState, error: BaseException) -> str:
    """One line for a write that failed for lack of space: what failed, the intact checkpoint, how to go on."""
    what = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if not isinstance(error, StorageError):
        what = f"no space left on the device of {s.run_dir.path} while writing the run's files ({what})"
    latest = s.checkpoints.latest()
    if latest is None:
        return f"{what}. No checkpoint was written yet: free space and start the run again"
    return (f"{what}. The last intact checkpoint is {latest}; free space, then resume with: "
            f"ganzoo run {s.run.model} --resume {s.run_dir.path}")


def rollback(s: RunState, event: NonFiniteEvent, progress: TrainingProgress) -> None:
    """Back to the last good state with every learning rate × ``train.nan_lr_factor``."""
    factor = s.run.train.nan_lr_factor
    lowered = {name: [group["lr"] * factor for group in optimizer.param_groups]
               for name, optimizer in s.optimizers.items()}
    s.rates.scale *= factor  # scheduled optimizers get it through LearningRates.apply
    assert s.good_state is not None
    failed_step = event.step  # the iteration that failed (1-based)
    restore(s, s.good_state, rollback=True)
    for name, optimizer in s.optimizers.items():
        for group, lr in zip(optimizer.param_groups, lowered[name]):
            group["lr"] = lr
    for optimizer in s.optimizers.values():
        optimizer.zero_grad(set_to_none=True)
    s.window.clear()
    s.counters["rollbacks"] += 1
    lrs = ", ".join(f"{name} {lrs[0]:.3g}" for name, lrs in lowered.items())
    message = (f"{event.describe()} ({s.run.train.nan_patience} times in a row): rolled back from step "
               f"{failed_step} to step {s.step} and lowered the learning rates by ×{factor} ({lrs})")
    s.warnings.issued.append(TrainingWarning("rollback", failed_step, message))
    s.run_dir.append_metrics({"step": s.step, "event": "rollback", "from_step": failed_step,
                              "reason": event.describe(), "learning_rates": lowered})
    progress.message(f"warning: {message}")


def diagnostic_metrics(values: dict[str, float]) -> dict[str, float]:
    """Plugin diagnostics by their recorded names, and by their short names where unambiguous."""
    short: dict[str, list[float]] = {}
    for key, value in values.items():
        short.setdefault(key.rsplit("/", 1)[-1], []).append(value)
    return {**{k: v[0] for k, v in short.items() if len(v) == 1}, **values}


def state_identical(s: RunState) -> bool:
    """Do all ranks hold bit-identical plugin state? (compared as raw bytes; never synced first)."""
    mine = {key: value.detach().cpu().contiguous().view(-1).view(torch.uint8).tolist()
            if value.numel() else [] for key, value in s.ctx.state.items()}
    everyone = s.dist.gather_objects(mine)
    return all(other == everyone[0] for other in everyone[1:])


def sync_buffers(s: RunState) -> None:
    """Rank 0's BatchNorm statistics everywhere (they are rank-local during training)."""
    if s.dist.enabled:
        modules = list(s.nets.values()) + (list(s.ema.averaged.values()) if s.ema is not None else [])
        s.dist.broadcast_modules(modules, buffers_only=True)


def copy_to_cpu(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: copy_to_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_to_cpu(item) for item in value]
    if isinstance(value, tuple):
        return tuple(copy_to_cpu(item) for item in value)
    return value
