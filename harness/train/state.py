"""A run's state: what a checkpoint holds, and resume, rollback and checkpointing built on it.

Everything needed to continue exactly is captured: networks, EMA, every optimizer and scaler,
RNG states of every rank, the data order and noise streams, counters, the open log window and
the guard. ``restore`` is the one way back in, used by ``--resume`` (from a file) and by the
non-finite guard's rollback (from the in-memory snapshot of the last good checkpoint).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from accelerate.utils import set_seed
from torch import Tensor

from ..contract.config import RunConfig
from ..report.diagnostics import TrainingWarning
from ..report.progress import TrainingProgress
from ..report.rundir import StorageError
from . import checkpoint
from .checkpoint import CheckpointError
from .config_diff import config_changes
from .ema import GeneratorEMA
from .guard import NonFiniteEvent

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer


class ResumeError(CheckpointError):
    """A run cannot be continued as asked (changed config, nothing left to train, …)."""


def rank_rng(t: Trainer) -> dict[str, Any]:
    return {**checkpoint.capture_rng(t.device), "local_noise": t.ctx.local.generator.get_state()}


def capture(t: Trainer, rng: list[Any]) -> dict[str, Any]:
    """Everything needed to continue exactly (tensors reference the live ones: save or copy at once)."""
    t.throughput.phases.flush()
    return {
        "format": checkpoint.FORMAT, "version": checkpoint.VERSION, "model": t.run.model, "step": t.step,
        "config": json.dumps(t.run.model_dump(mode="json")), "data_info": t.data_info.model_dump_json(),
        "world_size": t.dist.world,
        "networks": {name: net.state_dict() for name, net in t.nets.items()},
        "ema": t.ema.state_dict() if t.ema is not None else None,
        "optimizers": {name: opt.state_dict() for name, opt in t.optimizers.items()},
        "scalers": {name: scaler.state_dict() for name, scaler in t.scalers.items()},
        "rng": rng,
        "noise": {"shared": t.ctx.generator.get_state()},
        "plugin_state": dict(t.ctx.state),
        "data": t.source.state_dict(),
        "trainer": {
            "counters": dict(t.counters),
            "throughput": t.throughput.state_dict(),
            "window": t.window.state_dict(),
            "warnings": t.warnings.state_dict(),
            "guard": t.guard.state_dict(),
            "lr_scale": t.rates.scale,
            "plateau": t.rates.plateau_state(),
            "plugin_diagnostics": dict(t.window.plugin_values),
            "last_metrics": checkpoint._plain(t.last_metrics),
            "metrics_by_generator": {k: checkpoint._plain(v) for k, v in t.metrics_by_generator.items()},
        },
    }


def snapshot(t: Trainer) -> dict[str, Any]:
    """An in-memory copy of this rank's state: the 'last good checkpoint' a rollback returns to."""
    rng: list[Any] = [None] * t.dist.world
    rng[t.dist.rank] = rank_rng(t)
    return copy_to_cpu(capture(t, rng))


def restore(t: Trainer, state: dict[str, Any], *, rollback: bool = False) -> None:
    where = "the checkpoint"
    t.evaluator.forget_standing_statistics()  # restored EMA weights need their BatchNorm statistics again
    try:
        checkpoint._load_into(t.nets, state["networks"], Path(where))
        if t.ema is not None:
            if state.get("ema"):
                t.ema.load_state_dict(state["ema"])
            else:  # EMA switched on at resume: start the average from the current weights
                t.ema = GeneratorEMA(t.nets, t.plugin.generators, t.run.train.ema_decay, t.run.train.ema_start,
                                     t.run.train.ema_rampup)
        for name, optimizer in t.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for name, scaler in t.scalers.items():
            scaler.load_state_dict(state["scalers"][name])
            t._scales[name] = float(scaler.get_scale()) if scaler.is_enabled() else 1.0
        t.source.load_state_dict(state["data"])
        t.ctx.generator.set_state(state["noise"]["shared"])
        saved_state = state.get("plugin_state", {})
        if set(saved_state) - set(t.ctx.state):
            raise KeyError(f"plugin state {sorted(saved_state)} does not match initial_state() {sorted(t.ctx.state)}")
        for key, value in saved_state.items():  # bit for bit, on the training device
            t.ctx.state[key] = value.detach().to(t.device, copy=True)
    except (KeyError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{where} does not fit this run ({type(error).__name__}: {error})") from None
    rng = state["rng"]
    mine = rng[t.dist.rank] if t.dist.rank < len(rng) else None
    if mine is not None:
        checkpoint.restore_rng(mine, t.device)
        t.ctx.local.generator.set_state(mine["local_noise"])
    else:
        set_seed(t.run.train.seed + t.dist.rank + 7_777 * state["step"])
    t.set_step(int(state["step"]))
    if not rollback:
        saved = state["trainer"]
        t.counters.clear()
        t.counters.update(saved["counters"])
        t.throughput.load_state_dict(saved["throughput"])
        t.window.load_state_dict(saved["window"], t.device)
        t.warnings.load_state_dict(saved["warnings"])
        t.guard.load_state_dict(saved["guard"])
        t.rates.scale = float(saved.get("lr_scale", 1.0))
        t.rates.load_plateau_state(saved.get("plateau", {}))
        t.window.plugin_values = dict(saved.get("plugin_diagnostics", {}))
        t.last_metrics = dict(saved.get("last_metrics", {}))
        t.metrics_by_generator = dict(saved.get("metrics_by_generator", {}))


def resume(t: Trainer) -> None:
    """Continue from the run directory's latest checkpoint; only ``train.steps`` may differ."""
    path = t.checkpoints.latest()
    if path is None:
        raise ResumeError(f"{t.run_dir.path} has no checkpoint to resume from (looked in "
                          f"{t.checkpoints.directory})")
    state = checkpoint.read(path, model=t.run.model)
    saved = RunConfig.model_validate(json.loads(state["config"]))
    changed = config_changes(saved.model_dump(mode="json"), t.run.model_dump(mode="json"))
    if changed:
        raise ResumeError(f"{path} was written with a different configuration than {t.run_dir.path}/config.json "
                          "now says (checkpoint → config.json): " + "; ".join(changed) + ". Only train.steps may "
                          "change when a run is resumed: undo the edit, or start a new run with --out")
    if state["step"] >= t.run.train.steps:
        raise ResumeError(f"{t.run_dir.path} has already trained {state['step']} of {t.run.train.steps} "
                          f"steps; pass --steps N with N > {state['step']} to train longer")
    if state["world_size"] != t.dist.world and t.is_main:
        print(f"note: {path} was written by {state['world_size']} process(es), this run has {t.dist.world}; "
              "the continuation is not bit-identical to an uninterrupted run", flush=True)
    restore(t, state)
    t.resumed_from = t.last_checkpoint = path


def save_checkpoint(t: Trainer, metrics: dict[str, Any] | None) -> None:
    """Write a checkpoint (rank 0), after making buffers agree; every rank takes part."""
    sync_buffers(t)
    rng = t.dist.gather_objects(rank_rng(t))
    if t.dist.enabled:
        t.replicas_identical = t.dist.replicas_identical(t.nets.values())
    if t.dist.enabled:
        t.state_identical = state_identical(t)
    if t.is_main:
        if t.run.train.best_metric and t.window.plugin_values:  # a plugin diagnostic may rank checkpoints
            metrics = {**diagnostic_metrics(t.window.plugin_values), **(metrics or {})}
        t.last_checkpoint = t.checkpoints.save(t.step, capture(t, rng), metrics)
    t.checkpointed_at = time.monotonic()  # train.checkpoint_every_s counts from here
    if t.run.train.nan_policy == "rollback":
        t.good_state = snapshot(t)


def storage_message(t: Trainer, error: BaseException) -> str:
    """One line for a write that failed for lack of space: what failed, the intact checkpoint, how to go on."""
    what = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if not isinstance(error, StorageError):
        what = f"no space left on the device of {t.run_dir.path} while writing the run's files ({what})"
    latest = t.checkpoints.latest()
    if latest is None:
        return f"{what}. No checkpoint was written yet: free space and start the run again"
    return (f"{what}. The last intact checkpoint is {latest}; free space, then resume with: "
            f"ganzoo run {t.run.model} --resume {t.run_dir.path}")


def rollback(t: Trainer, event: NonFiniteEvent, progress: TrainingProgress) -> None:
    """Back to the last good state with every learning rate × ``train.nan_lr_factor``."""
    factor = t.run.train.nan_lr_factor
    lowered = {name: [group["lr"] * factor for group in optimizer.param_groups]
               for name, optimizer in t.optimizers.items()}
    t.rates.scale *= factor  # scheduled optimizers get it through LearningRates.apply
    assert t.good_state is not None
    failed_step = event.step  # the iteration that failed (1-based)
    restore(t, t.good_state, rollback=True)
    for name, optimizer in t.optimizers.items():
        for group, lr in zip(optimizer.param_groups, lowered[name]):
            group["lr"] = lr
    for optimizer in t.optimizers.values():
        optimizer.zero_grad(set_to_none=True)
    t.window.clear()
    t.counters["rollbacks"] += 1
    lrs = ", ".join(f"{name} {lrs[0]:.3g}" for name, lrs in lowered.items())
    message = (f"{event.describe()} ({t.run.train.nan_patience} times in a row): rolled back from step "
               f"{failed_step} to step {t.step} and lowered the learning rates by ×{factor} ({lrs})")
    t.warnings.issued.append(TrainingWarning("rollback", failed_step, message))
    t.run_dir.append_metrics({"step": t.step, "event": "rollback", "from_step": failed_step,
                              "reason": event.describe(), "learning_rates": lowered})
    progress.message(f"warning: {message}")


def diagnostic_metrics(values: dict[str, float]) -> dict[str, float]:
    """Plugin diagnostics by their recorded names, and by their short names where unambiguous."""
    short: dict[str, list[float]] = {}
    for key, value in values.items():
        short.setdefault(key.rsplit("/", 1)[-1], []).append(value)
    return {**{k: v[0] for k, v in short.items() if len(v) == 1}, **values}


def state_identical(t: Trainer) -> bool:
    """Do all ranks hold bit-identical plugin state? (compared as raw bytes; never synced first)."""
    mine = {key: value.detach().cpu().contiguous().view(-1).view(torch.uint8).tolist()
            if value.numel() else [] for key, value in t.ctx.state.items()}
    everyone = t.dist.gather_objects(mine)
    return all(other == everyone[0] for other in everyone[1:])


def sync_buffers(t: Trainer) -> None:
    """Rank 0's BatchNorm statistics everywhere (they are rank-local during training)."""
    if t.dist.enabled:
        modules = list(t.nets.values()) + (list(t.ema.averaged.values()) if t.ema is not None else [])
        t.dist.broadcast_modules(modules, buffers_only=True)


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
