"""The training loop: one loop runs any plugin's phases (GUIDE §2, after stylegan2-ada's phases).

Per phase and repeat: draw a batch → autocast forward (the plugin's step) → scaled backward →
(several processes: average the updated networks' gradients) → finite check → unscale, measure
and clip gradients → optimizer step → ``after_update``. Per iteration: EMA, logging, evaluation,
checkpoints, sample plots. The plugin sees none of this.

Production concerns live in their own modules: ``precision`` (autocast, a GradScaler per phase),
``distributed`` (gradient averaging without DDP), ``checkpoint`` (atomic files, exact resume),
``guard`` (non-finite steps, rollback), ``diagnostics`` (stability measures, early warnings),
``throughput`` (timings and memory). Diagnostics are measured on log iterations only.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from rich.console import Console
from torch import Tensor, nn

from . import checkpoint
from .checkpoint import CheckpointError, CheckpointStore
from .config import RunConfig
from .context import TrainingContext
from .data.base import DataSource
from .data.catalog import DataRequest, open_dataset
from .diagnostics import (EarlyWarnings, RuleContext, SpectralEstimator, TrainingWarning, discriminator_stats,
                          weight_norm)
from .distributed import Distributed, DistributedError
from .ema import GeneratorEMA, standing_batchnorm
from .environment import environment
from .report import write_report
from .evaluation import evaluate_with_protocols, generate, parameter_count, translation_grid
from .guard import NonFiniteEvent, NonFiniteGuard, NonFiniteStop, RollbackRequest
from .optim import build_optimizer
from .plots import image_grid, scatter_points
from .plugin import Batch, GANPlugin, Networks, Phase, PhaseResult
from .precision import PrecisionPolicy
from .progress import TrainingProgress
from .registry import LoadedPlugin
from .resolve import ConfigError
from .rundir import RunDir
from .spec import DataKind
from .throughput import Throughput
from .tricks import DiscriminatorView

INTERRUPTED_EXIT_CODE = 130
TIME_LIMIT = "time limit"  # a stop reason, like a signal's name


class PluginContractError(TypeError):
    """A plugin returned something the contract does not allow; the message says what and where."""


class ResumeError(CheckpointError):
    """A run cannot be continued as asked (changed config, nothing left to train, …)."""


class Trainer:
    def __init__(self, run: RunConfig, plugin: LoadedPlugin, run_dir: RunDir, *, data_dir: Path | None = None,
                 download: bool = False, cpu: bool = False, progress: bool = True, resume: bool = False,
                 time_limit_s: float | None = None) -> None:
        """``time_limit_s``: stop training once this many seconds of ``fit`` have passed, write a checkpoint,
        then evaluate what was reached (status ``time-limit``; a bench entry's budget)."""
        self.run = run
        self.time_limit_s = time_limit_s
        self.run_dir = run_dir
        self.data_dir = data_dir
        # Accelerate owns device placement and the process group. Its own AMP stays off: it keeps a
        # single GradScaler, and GAN phases need one each (harness.precision).
        self.accelerator = Accelerator(cpu=cpu, mixed_precision="no")
        self.device = self.accelerator.device
        self.dist = Distributed(self.accelerator.process_index, self.accelerator.num_processes, self.device)
        self.dist.check_world_size()
        self.is_main = self.dist.is_main
        run_dir.writable = self.is_main  # only rank 0 writes files
        self.show_progress = progress
        train = run.train
        if train.cpu_threads and self.device.type == "cpu":
            torch.set_num_threads(train.cpu_threads)
        if train.sync_batchnorm and self.device.type != "cuda":
            raise DistributedError("train.sync_batchnorm needs CUDA: torch's SyncBatchNorm only runs on GPU tensors "
                                   "(its statistics are exchanged with NCCL), so it cannot work on CPU/gloo; "
                                   "drop the option or train on GPUs")

        if train.evaluate and train.eval_extractor == "inception":
            from .metrics.errors import MetricError
            from .metrics.extractors import find_inception_weights

            try:  # now, not after hours of training when the final evaluation needs them
                find_inception_weights()
            except MetricError as error:
                raise ConfigError(f"train.eval_extractor = inception: {error} Or train without metrics "
                                  "(train.evaluate=false) and score later with `ganzoo eval`.") from None
        with self.accelerator.main_process_first():  # rank 0 downloads/decodes into the cache first
            self.source: DataSource = open_dataset(run.dataset, DataRequest(
                seed=train.seed, data_dir=data_dir, resolution=train.resolution, download=download))
        config = plugin.cls.Config.model_validate(run.params)
        tricks = train.tricks
        self.data_info = self.source.info.model_copy(update={"pack": tricks.pack})
        self.plugin: GANPlugin = plugin.cls(config, self.data_info, tricks)
        set_seed(train.seed)  # the same initial weights on every rank …
        self.nets = self._build_networks()
        self.dist.broadcast_modules(self.nets.values())  # … and rank 0's, whatever the plugin's init does
        set_seed(train.seed + self.dist.rank)  # per-rank global streams (dropout and the like)
        self.phases = self._check_phases(self.plugin.phases())
        self._lr_scale = 1.0  # product of the rollbacks' learning-rate factors
        self.optimizers = self._build_optimizers()
        self._phase_params = {phase.name: self._params_of(phase.updates) for phase in self.phases}
        self.precision = PrecisionPolicy(train.precision, self.device)
        self.scalers = {phase.name: self.precision.new_scaler() for phase in self.phases}
        self._scales = {name: float(s.get_scale()) if s.is_enabled() else 1.0 for name, s in self.scalers.items()}
        self._one = torch.ones(1, device=self.device)
        # noise: one stream shared by all ranks, sharded per rank (harness.context)
        self.ctx = TrainingContext(self.device, train.seed, self.source.info.num_classes,
                                   real_target=1.0 - tricks.label_smoothing, rank=self.dist.rank, world=self.dist.world)
        self.views = {name: DiscriminatorView(self.nets[name], tricks, self.ctx.local)
                      for name in self.plugin.discriminators}
        # what phase steps see: discriminators behind the input-side tricks when any is on
        self.step_nets = Networks({**self.nets, **self.views}) if tricks.active else self.nets
        self.ema = (GeneratorEMA(self.nets, self.plugin.generators, train.ema_decay, train.ema_start)
                    if train.ema_decay else None)

        self.step = 0
        self.counters: dict[str, int] = defaultdict(int)  # non-finite steps, fp16-skipped steps, per phase
        self.throughput = Throughput(self.device, train.batch_size, self.dist.world)
        self._window: dict[str, list[Tensor]] = defaultdict(list)
        self._diagnostics: dict[str, Any] = {}
        self.last_metrics: dict[str, Any] = {}
        self.metric_protocols: dict[str, Any] = {}  # how each number in last_metrics was computed
        self.history: list[dict[str, Any]] = []  # records of this run, for the early-warning rules
        self.guard = NonFiniteGuard(train.nan_patience, train.nan_policy, train.max_rollbacks)
        family = self.plugin.spec.family.value
        discriminators = set(self.plugin.discriminators)
        self.warnings = EarlyWarnings(RuleContext(
            family=family,
            discriminator_phases=tuple(p.name for p in self.phases if discriminators & set(p.updates)),
            generator_phases=tuple(p.name for p in self.phases if set(self.plugin.generators) & set(p.updates)),
            generators=tuple(self.plugin.generators), discriminators=tuple(self.plugin.discriminators)))
        self.spectral = (SpectralEstimator(self.nets, [n for n in self.plugin.discriminators if n in self.nets])
                         if train.spectral_diagnostics else None)
        self.checkpoints = CheckpointStore(run_dir.checkpoints, train.keep_checkpoints, train.best_metric)
        self.last_checkpoint: Path | None = None
        self.resumed_from: Path | None = None
        self.status = "running"
        self._good_state: dict[str, Any] | None = None  # what a rollback restores
        self._stop_signal: str | None = None
        self._stop_synced = False
        self._deadline: float | None = None
        self._standing_step: int | None = None  # step at which the EMA generators' BatchNorm stats were recomputed
        self.time_limit_reached: str | None = None  # why training ended before train.steps, if it did
        self._replicas_identical: bool | None = None
        if resume:
            self._resume()

    # -- building -------------------------------------------------------------------------------
    def _build_networks(self) -> Networks:
        built = self.plugin.build()
        name = type(self.plugin).__name__
        if not isinstance(built, dict) or not all(isinstance(m, nn.Module) for m in built.values()):
            raise PluginContractError(f"{name}.build() must return a dict of nn.Module by name, got {type(built)}")
        declared = set(self.plugin.generators) | set(self.plugin.discriminators)
        if declared - set(built):
            raise PluginContractError(f"{name} declares networks {sorted(declared - set(built))} that build() "
                                      f"did not return (it returned {sorted(built)})")
        if self.run.train.sync_batchnorm:
            built = {key: nn.SyncBatchNorm.convert_sync_batchnorm(module) for key, module in built.items()}
        return Networks({key: module.to(self.device) for key, module in built.items()})

    def _check_phases(self, phases: list[Phase]) -> list[Phase]:
        name = type(self.plugin).__name__
        if not phases:
            raise PluginContractError(f"{name}.phases() returned no phase")
        for phase in phases:
            unknown = set(phase.updates) - set(self.nets)
            if unknown:
                raise PluginContractError(f"{name}: phase {phase.name!r} updates unknown networks {sorted(unknown)}")
        if len({p.name for p in phases}) != len(phases):
            raise PluginContractError(f"{name}: phase names must be unique, got {[p.name for p in phases]}")
        return phases

    def _build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        specs = self.plugin.optimizers()
        needed = {net for phase in self.phases for net in phase.updates}
        missing = needed - set(specs)
        if missing:
            raise PluginContractError(f"{type(self.plugin).__name__}.optimizers() has no spec for {sorted(missing)}, "
                                      "which a phase updates")
        # learning-rate schedules the specs declare (OptimizerSpec.decay), run by _apply_schedule
        self._scheduled = {net: specs[net] for net in sorted(needed) if getattr(specs[net], "decay", "none") != "none"}
        return {net: build_optimizer(specs[net], self.nets[net].parameters()) for net in sorted(needed)}

    def _apply_schedule(self) -> None:
        """Set scheduled learning rates for the coming iteration: spec lr × rollback factor × decay."""
        total = self.run.train.steps
        for name, spec in self._scheduled.items():
            start = spec.decay_start * total
            decay = 1.0 if self.step < start else max(0.0, (total - self.step) / max(total - start, 1.0))
            for group in self.optimizers[name].param_groups:
                group["lr"] = spec.lr * self._lr_scale * decay

    def _params_of(self, names: tuple[str, ...]) -> list[nn.Parameter]:
        seen: set[int] = set()
        params = []
        for name in names:
            for p in self.nets[name].parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return params

    # compatibility: per-phase timings as plain dicts
    @property
    def phase_calls(self) -> dict[str, int]:
        return dict(self.throughput.phases.calls)

    @property
    def phase_seconds(self) -> dict[str, float]:
        self.throughput.phases.flush()
        return dict(self.throughput.phases.seconds)

    # -- one phase ------------------------------------------------------------------------------
    def _next_batch(self) -> Batch:
        start = time.perf_counter()
        batch = self.source.next_shard(self.run.train.batch_size, self.dist.rank, self.dist.world)
        moved = Batch(*(None if t is None else t.to(self.device, non_blocking=True)
                        for t in (batch.real, batch.labels, batch.real_b)))
        self.throughput.data_seconds += time.perf_counter() - start
        return moved

    def _set_trainable(self, names: tuple[str, ...]) -> None:
        """Only the phase's networks get parameter gradients: the others are inputs to its loss."""
        for key, net in self.nets.items():
            net.requires_grad_(key in names)

    def _run_phase(self, phase: Phase, measure: bool) -> None:
        batch = self._next_batch()
        token = self.throughput.phases.start()
        scaler = self.scalers[phase.name]
        scaled = scaler.is_enabled()
        scale_before = self._scales[phase.name]
        self.ctx.loss_scale = scale_before
        with self.precision.autocast():
            result = phase.step(self.step_nets, batch, self.ctx)
            if not isinstance(result, PhaseResult):
                raise PluginContractError(f"phase {phase.name!r} of {type(self.plugin).__name__} must return a "
                                          f"PhaseResult, got {type(result).__name__}")
            loss = result.loss.float()
            loss = loss + self._r1(phase, batch, result)
        # An inf/NaN loss still goes through backward: under fp16 the scaler must see the inf
        # gradients to lower its scale; otherwise the finite check below skips the step.
        (scaler.scale(loss) if scaled else loss).backward()
        params = self._phase_params[phase.name]
        optimizers = [self.optimizers[name] for name in phase.updates]
        loss_bad, grads_bad = self._exchange_and_check(loss, params, check=not scaled)

        if not scaled and (loss_bad or grads_bad):
            event = NonFiniteEvent(phase.name, self.step + 1, self._culprit(phase, loss, result, loss_bad))
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            self.counters[f"{phase.name}/nonfinite_{'loss' if loss_bad else 'grad'}"] += 1
            self.throughput.phases.stop(phase.name, token)
            self.guard.bad(event)
            return

        clip = self.run.train.grad_clip
        if measure or clip:
            for name, optimizer in zip(phase.updates, optimizers):
                if scaled:
                    scaler.unscale_(optimizer)
                grads = [p for p in self.nets[name].parameters() if p.grad is not None]
                if clip:
                    norm = torch.nn.utils.clip_grad_norm_(grads, clip)
                else:
                    norm = torch.nn.utils.get_total_norm([p.grad for p in grads])
                if measure:
                    self._diagnostics[f"{name}/grad_norm"] = norm.detach()
        if scaled:
            for optimizer in optimizers:
                scaler.step(optimizer)
                optimizer.zero_grad(set_to_none=True)
            scaler.update()
            self._scales[phase.name] = scale_after = float(scaler.get_scale())
            if scale_after < scale_before:  # the scaler found inf/NaN gradients and skipped the update
                self.counters[f"{phase.name}/amp_skipped"] += 1
                self.throughput.phases.stop(phase.name, token)
                if scale_before <= 1.0:  # no overflow of the scaling explains it: a real non-finite step
                    self.counters[f"{phase.name}/nonfinite_grad"] += 1
                    tensor = "loss" if not torch.isfinite(loss) else "gradients (fp16 overflow at loss scale ≤ 1)"
                    self.guard.bad(NonFiniteEvent(phase.name, self.step + 1, tensor))
                return  # a skipped step: no after_update, and its loss stays out of the logs
            self.guard.good(phase.name)
        else:
            for optimizer in optimizers:
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            self.guard.good(phase.name)
        if phase.after_update is not None:
            with torch.no_grad():
                phase.after_update(self.nets)
        self._record(phase.name, loss, result, measure)
        self.throughput.phases.stop(phase.name, token)

    def _exchange_and_check(self, loss: Tensor, params: list[nn.Parameter], check: bool) -> tuple[bool, bool]:
        """Average gradients across ranks (if several) and test loss and gradients for inf/NaN, in one sync."""
        if self.dist.enabled:
            loss_bad = (~torch.isfinite(loss.detach())).float()
            stop = torch.tensor(float(self._stop_signal is not None), device=loss.device)
            (loss_count, stop_count), grads_bad = self.dist.average_gradients(params, torch.stack([loss_bad, stop]),
                                                                              check_finite=check)
            self._stop_synced = self._stop_synced or stop_count > 0
            return loss_count > 0, grads_bad
        if not check:
            return False, False
        found = torch.zeros(1, device=loss.device)
        grads = [p.grad for p in params if p.grad is not None]
        for dtype in {g.dtype for g in grads}:
            # the GradScaler's own check: one fused kernel; multiplies by exactly 1.0, so bits are unchanged
            torch._amp_foreach_non_finite_check_and_unscale_([g for g in grads if g.dtype == dtype], found,
                                                             self._one)
        loss_value, grads_flag = torch.cat([loss.detach().float().reshape(1), found]).tolist()
        return not math.isfinite(loss_value), grads_flag > 0

    def _culprit(self, phase: Phase, loss: Tensor, result: PhaseResult, loss_bad: bool) -> str:
        """Name the first non-finite tensor (only called on a bad step, so it may be slow)."""
        if loss_bad:
            if torch.isfinite(loss.detach()):
                return "loss (on another process)"
            parts = [key for key, value in result.logs.items()
                     if not torch.isfinite(torch.as_tensor(value, dtype=torch.float32)).all()]
            return f"loss ({', '.join(parts)} not finite)" if parts else "loss"
        for name in phase.updates:
            for pname, p in self.nets[name].named_parameters():
                if p.grad is not None and not torch.isfinite(p.grad).all():
                    return f"gradient of {name}.{pname}"
        return "gradients"

    def _r1(self, phase: Phase, batch: Batch, result: PhaseResult) -> Tensor | float:
        """The R1 trick: γ/2·E‖∇D(x)‖² added to every phase that updates a discriminator."""
        gamma = self.run.train.tricks.r1_gamma
        if not gamma:
            return 0.0
        total = 0.0
        args = (batch.labels,) if self.plugin.spec.conditional and batch.labels is not None else ()
        for name in phase.updates:
            if name in self.views:
                penalty = self.ctx.r1_penalty(self.step_nets[name], batch.real, *args)
                result.logs[f"r1_{name}"] = penalty.detach()
                total = total + 0.5 * gamma * penalty
        return total

    def _record(self, phase: str, loss: Tensor, result: PhaseResult, measure: bool) -> None:
        self._window[f"{phase}/loss"].append(loss.detach())
        for key, value in result.logs.items():
            self._window[f"{phase}/{key}"].append(torch.as_tensor(value).detach().float())
        if measure:
            stats = discriminator_stats(self.plugin.spec.family.value, result.d_real, result.d_fake)
            self._diagnostics.update({f"{phase}/{key}": value for key, value in stats.items()})
            if self.scalers[phase].is_enabled():
                self._diagnostics[f"{phase}/loss_scale"] = self._scales[phase]

    # -- the loop -------------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        train = self.run.train
        if self.resumed_from is not None:
            self.run_dir.truncate_metrics(self.step)
            self.history = self.run_dir.read_metrics() if self.is_main else []
        self.run_dir.write_config({**self.run.model_dump(mode="json"), "data": self.source.describe(),
                                   "data_info": self.data_info.model_dump(mode="json"),
                                   "plugin": self.plugin.spec.model_dump(mode="json")})
        if train.nan_policy == "rollback" and self._good_state is None:
            self._good_state = self._snapshot()
        description = f"{self.run.model} on {self.run.dataset}"
        # a live bar only on rank 0 and when asked for; other ranks print nothing
        console = None if (self.show_progress and self.is_main) else Console(stderr=True, force_terminal=False)
        handlers = self._install_signal_handlers()  # kept to the end: a signal during the final evaluation waits
        if self.time_limit_s is not None:
            self._deadline = time.monotonic() + self.time_limit_s
        try:
            try:
                with TrainingProgress(train.steps, description, console=console, start=self.step) as progress:
                    if not self.is_main:
                        progress.show = progress.message = lambda *args, **kwargs: None  # type: ignore[method-assign]
                    self.progress = progress
                    self._loop(progress)
            except NonFiniteStop as stop:
                self.status = "stopped"
                self._write_summary(stopped=str(stop))
                raise
            if self.status == "interrupted":
                return self._write_summary()
            self._set_trainable(tuple(self.nets))
            final = {"step": self.step, "metrics": self._evaluate()}
            self.history.append(final)
            self._check_warnings()
            self.run_dir.append_metrics(final)
            self._checkpoint(final["metrics"])
            self._plot("final")
            self.status = "time-limit" if self.time_limit_reached else "completed"
            return self._write_summary(stopped=self.time_limit_reached)
        finally:
            self._restore_signal_handlers(handlers)

    def train_iteration(self, measure: bool = False) -> None:
        """One iteration: every phase in order, ``repeats`` times each (what the benches time)."""
        if self._scheduled:
            self._apply_schedule()
        for phase in self.phases:
            self._set_trainable(phase.updates)
            for _ in range(phase.repeats):
                self._run_phase(phase, measure)

    def _loop(self, progress: TrainingProgress) -> None:
        train = self.run.train
        self.throughput.resume_clock()
        clock_step = self.step
        while self.step < train.steps:
            measure = (self.step + 1) % train.log_every == 0 or self.step + 1 == train.steps
            try:
                self.train_iteration(measure)
            except RollbackRequest as request:
                self.throughput.pause_clock(self.step - clock_step)
                self._rollback(request.event, progress)
                self.throughput.resume_clock()
                clock_step = self.step
                continue
            self.step += 1
            self.ctx.step = self.step
            for view in self.views.values():
                view.step = self.step
            if self.ema is not None:
                self.ema.update(self.nets, self.step)
            if (self.is_main and self._deadline is not None and self._stop_signal is None
                    and time.monotonic() >= self._deadline):
                self._stop_signal = TIME_LIMIT  # reaches the other ranks like a signal, at the next exchange
            evaluate_now = train.evaluate and bool(train.eval_every) and self.step % train.eval_every == 0 and self.step != train.steps
            checkpoint_now = bool(train.checkpoint_every) and self.step % train.checkpoint_every == 0 \
                and self.step != train.steps
            sample_now = bool(train.sample_every) and self.step % train.sample_every == 0
            stop = self._stop_synced if self.dist.enabled else self._stop_signal is not None
            if not (measure or evaluate_now or checkpoint_now or sample_now or stop):
                if self.step % 10 == 0:
                    progress.advance(self.step)
                continue
            self.throughput.pause_clock(self.step - clock_step)
            record = None
            if measure:
                record = self._log_record()
            if evaluate_now:
                record = record or {"step": self.step}
                record["metrics"] = self._evaluate()
            if record is not None:
                self.history.append(record)
                self._check_warnings()
                self.run_dir.append_metrics(record)
                if measure:
                    progress.show(self.step, self._progress_stats(record))
            # only rank 0 keeps the clock: every rank learns from it whether this stop is the time limit
            reason = self.dist.broadcast_object(self._stop_signal) if stop else None
            time_up = stop and reason == TIME_LIMIT  # the final checkpoint follows the evaluation
            if checkpoint_now or (stop and not time_up):
                self._checkpoint(record.get("metrics") if record and evaluate_now else None)
            if sample_now:
                self._plot(f"step_{self.step:07d}")
            if time_up:
                self.time_limit_reached = (f"time limit of {self.time_limit_s:g} s reached after step "
                                           f"{self.step}/{train.steps}")
                progress.message(f"{self.time_limit_reached}: evaluating what was reached; continue with: "
                                 f"ganzoo run {self.run.model} --resume {self.run_dir.path}")
                return
            if stop:
                self.status = "interrupted"
                reason = self._stop_signal or "a signal to another process"
                progress.message(f"interrupted ({reason}) after step {self.step}/{train.steps}: checkpoint "
                                 f"{self.last_checkpoint}. Resume with:\n  ganzoo run {self.run.model} "
                                 f"--resume {self.run_dir.path}")
                return
            self.throughput.resume_clock()
            clock_step = self.step
        self.throughput.pause_clock(self.step - clock_step)

    # -- interrupts -------------------------------------------------------------------------------
    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, self._on_signal)
        return previous

    def _restore_signal_handlers(self, previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self._stop_signal is not None:  # a second signal: stop now, without a checkpoint
            signal.signal(signum, signal.SIG_DFL)
            raise KeyboardInterrupt
        self._stop_signal = signal.Signals(signum).name
        if self.is_main:
            print(f"\n{self._stop_signal}: finishing step {self.step + 1}, then writing a checkpoint "
                  "(send it again to stop at once)", flush=True)

    # -- state ------------------------------------------------------------------------------------
    def _rank_rng(self) -> dict[str, Any]:
        return {**checkpoint.capture_rng(self.device), "local_noise": self.ctx.local.generator.get_state()}

    def _state(self, rng: list[Any]) -> dict[str, Any]:
        """Everything needed to continue exactly (tensors reference the live ones: save or copy at once)."""
        self.throughput.phases.flush()
        return {
            "format": checkpoint.FORMAT, "version": checkpoint.VERSION, "model": self.run.model, "step": self.step,
            "config": json.dumps(self.run.model_dump(mode="json")), "data_info": self.data_info.model_dump_json(),
            "world_size": self.dist.world,
            "networks": {name: net.state_dict() for name, net in self.nets.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "scalers": {name: scaler.state_dict() for name, scaler in self.scalers.items()},
            "rng": rng,
            "noise": {"shared": self.ctx.generator.get_state()},
            "data": self.source.state_dict(),
            "trainer": {
                "counters": dict(self.counters),
                "throughput": self.throughput.state_dict(),
                "window": {key: torch.stack(values).cpu() for key, values in self._window.items() if values},
                "warnings": self.warnings.state_dict(),
                "guard": self.guard.state_dict(),
                "lr_scale": self._lr_scale,
                "last_metrics": checkpoint._plain(self.last_metrics),
            },
        }

    def _snapshot(self) -> dict[str, Any]:
        """An in-memory copy of this rank's state: the 'last good checkpoint' a rollback returns to."""
        rng: list[Any] = [None] * self.dist.world
        rng[self.dist.rank] = self._rank_rng()
        return _copy_to_cpu(self._state(rng))

    def _load_state(self, state: dict[str, Any], *, rollback: bool = False) -> None:
        where = "the checkpoint"
        self._standing_step = None  # restored EMA weights need their BatchNorm statistics again
        try:
            checkpoint._load_into(self.nets, state["networks"], Path(where))
            if self.ema is not None:
                if state.get("ema"):
                    self.ema.load_state_dict(state["ema"])
                else:  # EMA switched on at resume: start the average from the current weights
                    self.ema = GeneratorEMA(self.nets, self.plugin.generators, self.run.train.ema_decay,
                                            self.run.train.ema_start)
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(state["optimizers"][name])
            for name, scaler in self.scalers.items():
                scaler.load_state_dict(state["scalers"][name])
                self._scales[name] = float(scaler.get_scale()) if scaler.is_enabled() else 1.0
            self.source.load_state_dict(state["data"])
            self.ctx.generator.set_state(state["noise"]["shared"])
        except (KeyError, ValueError, RuntimeError) as error:
            raise CheckpointError(f"{where} does not fit this run ({type(error).__name__}: {error})") from None
        rng = state["rng"]
        mine = rng[self.dist.rank] if self.dist.rank < len(rng) else None
        if mine is not None:
            checkpoint.restore_rng(mine, self.device)
            self.ctx.local.generator.set_state(mine["local_noise"])
        else:
            set_seed(self.run.train.seed + self.dist.rank + 7_777 * state["step"])
        self.step = self.ctx.step = int(state["step"])
        for view in self.views.values():
            view.step = self.step
        if not rollback:
            trainer = state["trainer"]
            self.counters = defaultdict(int, trainer["counters"])
            self.throughput.load_state_dict(trainer["throughput"])
            self._window = defaultdict(list, {key: list(values.to(self.device).unbind())
                                              for key, values in trainer["window"].items()})
            self.warnings.load_state_dict(trainer["warnings"])
            self.guard.load_state_dict(trainer["guard"])
            self._lr_scale = float(trainer.get("lr_scale", 1.0))
            self.last_metrics = dict(trainer.get("last_metrics", {}))

    def _resume(self) -> None:
        path = self.checkpoints.latest()
        if path is None:
            raise ResumeError(f"{self.run_dir.path} has no checkpoint to resume from (looked in "
                              f"{self.checkpoints.directory})")
        state = checkpoint.read(path, model=self.run.model)
        saved = RunConfig.model_validate(json.loads(state["config"]))
        mine = self.run.model_dump(mode="json")
        theirs = saved.model_dump(mode="json")
        mine["train"].pop("steps")
        theirs["train"].pop("steps")
        if mine != theirs:
            raise ResumeError(f"{path} was written with a different configuration; only train.steps may change "
                              "when a run is resumed")
        if state["step"] >= self.run.train.steps:
            raise ResumeError(f"{self.run_dir.path} has already trained {state['step']} of {self.run.train.steps} "
                              f"steps; pass --steps N with N > {state['step']} to train longer")
        if state["world_size"] != self.dist.world and self.is_main:
            print(f"note: {path} was written by {state['world_size']} process(es), this run has {self.dist.world}; "
                  "the continuation is not bit-identical to an uninterrupted run", flush=True)
        self._load_state(state)
        self.resumed_from = path
        self.last_checkpoint = path

    def _checkpoint(self, metrics: dict[str, Any] | None) -> None:
        """Write a checkpoint (rank 0), after making buffers agree; every rank takes part."""
        self._sync_buffers()
        rng = self.dist.gather_objects(self._rank_rng())
        if self.dist.enabled:
            self._replicas_identical = self.dist.replicas_identical(self.nets.values())
        if self.is_main:
            self.last_checkpoint = self.checkpoints.save(self.step, self._state(rng), metrics)
        if self.run.train.nan_policy == "rollback":
            self._good_state = self._snapshot()

    def _rollback(self, event: NonFiniteEvent, progress: TrainingProgress) -> None:
        factor = self.run.train.nan_lr_factor
        lowered = {name: [group["lr"] * factor for group in optimizer.param_groups]
                   for name, optimizer in self.optimizers.items()}
        self._lr_scale *= factor  # scheduled optimizers get it through _apply_schedule
        assert self._good_state is not None
        failed_step = event.step  # the iteration that failed (1-based)
        self._load_state(self._good_state, rollback=True)
        for name, optimizer in self.optimizers.items():
            for group, lr in zip(optimizer.param_groups, lowered[name]):
                group["lr"] = lr
        for optimizer in self.optimizers.values():
            optimizer.zero_grad(set_to_none=True)
        self._window.clear()
        self._diagnostics.clear()
        self.counters["rollbacks"] += 1
        lrs = ", ".join(f"{name} {lrs[0]:.3g}" for name, lrs in lowered.items())
        message = (f"{event.describe()} ({self.run.train.nan_patience} times in a row): rolled back from step "
                   f"{failed_step} to step {self.step} and lowered the learning rates by ×{factor} ({lrs})")
        warning = TrainingWarning("rollback", failed_step, message)
        self.warnings.issued.append(warning)
        self.run_dir.append_metrics({"step": self.step, "event": "rollback", "from_step": failed_step,
                                     "reason": event.describe(), "learning_rates": lowered})
        progress.message(f"warning: {message}")

    def _sync_buffers(self) -> None:
        """Rank 0's BatchNorm statistics everywhere (they are rank-local during training)."""
        if self.dist.enabled:
            modules = list(self.nets.values()) + (list(self.ema.averaged.values()) if self.ema is not None else [])
            self.dist.broadcast_modules(modules, buffers_only=True)

    # -- evaluation and samples -------------------------------------------------------------------
    def sampling_networks(self) -> Networks:
        """The networks samples and metrics use: the EMA generators when enabled."""
        if self.ema is None:
            return self.nets
        nets = Networks({**self.nets, **self.ema.averaged})
        if self._standing_step != self.step:  # once per step, however many evaluations and plots use it
            standing_batchnorm(self.plugin, nets, tuple(self.ema.averaged), self.device,
                               seed=self.run.train.seed + 4242)
            self._standing_step = self.step
        return nets

    def _evaluate(self) -> dict[str, Any]:
        """Metrics computed on rank 0 (every rank would draw the same samples) and shared with all."""
        self._sync_buffers()
        result = ({}, {})
        if self.is_main and self.run.train.evaluate:
            result = evaluate_with_protocols(self.plugin, self.sampling_networks(), self.source,
                                             self.run.train.eval_samples, seed=self.run.train.seed + 12345,
                                             device=self.device, data_dir=self.data_dir,
                                             extractor=self.run.train.eval_extractor)
        self.last_metrics, self.metric_protocols = self.dist.broadcast_object(result)
        return self.last_metrics

    def _plot(self, tag: str) -> None:
        if not self.is_main:
            return
        kind = self.source.info.kind
        if kind == DataKind.points2d:
            n = min(self.run.train.eval_samples, 2500)
            fake = generate(self.plugin, self.sampling_networks(), n, self.run.train.seed + 12345, self.device)
            real = self.source.reference(n, seed=self.run.train.seed + 999).real
            scatter_points(real, fake, self.run_dir.samples / f"{tag}.png",
                           title=f"{self.run.model} on {self.run.dataset}, step {self.step}")
        elif kind == DataKind.images:
            classes = self.source.info.num_classes if self.plugin.spec.conditional else None
            n = 10 * classes if classes else 64
            labels = torch.arange(n, device=self.device) // 10 if classes else None  # one row per class
            images = generate(self.plugin, self.sampling_networks(), n, self.run.train.seed + 777, self.device,
                              labels=labels)
            image_grid(images, self.run_dir.samples / f"{tag}.png", nrow=10 if classes else 8)
        elif kind == DataKind.unpaired_images:
            images = translation_grid(self.plugin, self.sampling_networks(), self.source, 8,
                                      self.run.train.seed + 777, self.device)
            image_grid(images, self.run_dir.samples / f"{tag}.png", nrow=6)

    # -- records ---------------------------------------------------------------------------------
    def _throughput(self) -> dict[str, Any]:
        return self.throughput.combine(self.dist.gather_objects(self.throughput.local()))

    def _log_record(self) -> dict[str, Any]:
        names = sorted(self._window)
        means, sems = {}, {}
        if names:
            stacked = [torch.stack(self._window[key]).float() for key in names]
            stats = torch.stack([torch.stack([s.mean(), s.std() / math.sqrt(len(s)) if len(s) > 1
                                              else torch.zeros((), device=s.device)]) for s in stacked]).tolist()
            means = {key: m for key, (m, _) in zip(names, stats)}
            sems = {key: e for key, (_, e) in zip(names, stats)}
        self._window.clear()
        diagnostics = {key: float(value) for key, value in self._diagnostics.items()}
        self._diagnostics.clear()
        for key, value in sems.items():
            if key.endswith("/loss"):
                diagnostics[f"{key}_sem"] = value
        for name, net in self.nets.items():
            diagnostics[f"{name}/weight_norm"] = weight_norm(net)
        for name, optimizer in self.optimizers.items():
            diagnostics[f"{name}/lr"] = optimizer.param_groups[0]["lr"]
        if self.spectral is not None:
            diagnostics.update(self.spectral.estimate())
        if self.dist.enabled:  # average the losses and per-phase statistics over ranks
            gathered = self.dist.gather_objects((means, diagnostics))
            means = _average([g[0] for g in gathered])
            diagnostics = _average([g[1] for g in gathered])
        return {"step": self.step, "losses": means, "diagnostics": diagnostics,
                "throughput": self._throughput(), "counters": dict(self.counters)}

    def _check_warnings(self) -> None:
        if not self.is_main:
            return
        for warning in self.warnings.check(self.history):
            self.progress.message(f"warning (step {warning.step}): {warning.message}")

    @staticmethod
    def _progress_stats(record: dict[str, Any]) -> dict[str, float]:
        stats = {key.replace("/loss", ""): value for key, value in record["losses"].items() if key.endswith("/loss")}
        throughput = record["throughput"]
        stats["img/s"] = throughput["images_per_s"]
        if throughput["iterations_per_s"] > 0:
            stats["ms/it"] = 1000 / throughput["iterations_per_s"]
        stats["data%"] = 100 * throughput["data_share"]
        return stats

    def _write_summary(self, stopped: str | None = None) -> dict[str, Any]:
        summary = self._summary()
        if stopped:
            summary["stopped"] = stopped
        if self.is_main:
            self.run_dir.write_summary(summary)
            write_report(self.run_dir.path)
        return summary

    def _summary(self) -> dict[str, Any]:
        if self.dist.enabled and self._replicas_identical is None:
            self._replicas_identical = self.dist.replicas_identical(self.nets.values())
        warnings = [w.as_dict() for w in self.warnings.issued]
        if self._replicas_identical is False:
            warnings.append(TrainingWarning("replicas_differ", self.step, (
                "the processes' copies of the networks differ: distributed training lost synchronisation "
                "(please report this)")).as_dict())
        return {
            "model": self.run.model,
            "dataset": self.run.dataset,
            "preset": self.run.preset,
            "status": self.status,
            "steps": self.step,
            "metrics": self.last_metrics,
            "protocol": self.metric_protocols,
            "throughput": self._throughput(),
            "counters": dict(self.counters),
            "warnings": warnings,
            "precision": {"mode": self.precision.name,
                          "loss_scales": {k: v for k, v in self._scales.items()} if self.precision.scaled else {},
                          "amp_skipped": sum(v for k, v in self.counters.items() if k.endswith("amp_skipped"))},
            "distributed": {"processes": self.dist.world,
                            "global_batch_size": self.run.train.batch_size * self.dist.world,
                            "replicas_identical": self._replicas_identical},
            "checkpoints": {"last": str(self.last_checkpoint) if self.last_checkpoint else None,
                            "best": str(self.checkpoints.best()) if self.checkpoints.best() else None,
                            "resumed_from": str(self.resumed_from) if self.resumed_from else None},
            "parameters": {name: parameter_count(net) for name, net in self.nets.items()},
            "train_seconds": self.throughput.train_seconds,
            "environment": environment(self.device, self.dist.world),
        }


def _average(dicts: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({key for d in dicts for key in d})
    return {key: sum(d[key] for d in dicts if key in d) / sum(1 for d in dicts if key in d) for key in keys}


def _copy_to_cpu(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: _copy_to_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_to_cpu(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy_to_cpu(item) for item in value)
    return value
