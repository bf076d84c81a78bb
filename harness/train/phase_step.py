"""One step of one phase, everything the harness does around the plugin's loss.

autocast forward (the plugin's step) → scaled backward → (several processes: average the updated
networks' gradients) → finite check → unscale, measure and clip gradients → optimizer step →
``after_update``. A GradScaler per phase (GUIDE §2: GAN phases must not share one); a
non-finite step is skipped and reported to the guard, never applied.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import torch
from torch import Tensor

from ..contract.config import TrainConfig
from ..contract.context import TrainingContext
from ..contract.gan_plugin import Batch, GANPlugin, Networks, Phase, PhaseResult
from ..report.throughput import Throughput
from .build import params_of
from ..contract.errors import PluginContractError
from .conflicts import ConflictWatch
from .distributed import Distributed
from .guard import NonFiniteEvent, NonFiniteGuard
from .process_control import StopRequest
from .precision import PrecisionChoice, PrecisionPolicy
from .log_records import LogWindow


class PhaseStepper:
    def __init__(self, plugin: GANPlugin, nets: Networks, step_nets: Networks, phases: list[Phase],
                 optimizers: dict[str, list[torch.optim.Optimizer]], train: TrainConfig, ctx: TrainingContext,
                 dist: Distributed, guard: NonFiniteGuard, throughput: Throughput, window: LogWindow,
                 stop: StopRequest, conflicts: ConflictWatch | None = None,
                 precision: PrecisionChoice | None = None) -> None:
        """``optimizers``: phase name → the optimizers its steps step (harness.train.build.LearningRates);
        ``precision``: the run's resolved precision (default: resolve ``train.precision`` here)."""
        self.plugin, self.nets, self.step_nets, self.optimizers = plugin, nets, step_nets, optimizers
        self.conflicts = conflicts
        self.train, self.ctx, self.dist, self.guard = train, ctx, dist, guard
        self.throughput, self.window, self.stop = throughput, window, stop
        self.phase_params = {phase.name: params_of(nets, phase.updates) for phase in phases}
        self.precision = PrecisionPolicy(precision or train.precision, ctx.device)
        self.scalers = {phase.name: self.precision.new_scaler() for phase in phases}
        #: each phase's current loss scale, read without a host sync (1.0 when unscaled)
        self.scales = {name: float(s.get_scale()) if s.is_enabled() else 1.0 for name, s in self.scalers.items()}
        self.counters: dict[str, int] = defaultdict(int)  # non-finite steps, fp16-skipped steps, per phase
        self.discriminators = set(plugin.discriminators)
        self._one = torch.ones(1, device=ctx.device)

    def run(self, phase: Phase, batch: Batch, step: int, measure: bool) -> None:
        token = self.throughput.phases.start()
        scaler = self.scalers[phase.name]
        scaled = scaler.is_enabled()
        scale_before = self.scales[phase.name]
        self.ctx.loss_scale = scale_before
        self.ctx.interval = phase.every
        self.ctx.used.clear()
        self.ctx.pending.clear()
        with self.precision.autocast():
            result = phase.step(self.step_nets, batch, self.ctx)
            if not isinstance(result, PhaseResult):
                raise PluginContractError(f"phase {phase.name!r} of {type(self.plugin).__name__} must return a "
                                          f"PhaseResult, got {type(result).__name__}")
            if self.conflicts is not None:
                self.conflicts.check(phase, self.ctx.used)
            check_result(type(self.plugin).__name__, phase.name, result, len(batch), self.train.tricks.pack,
                         self.plugin.scalar_scores)
            loss = result.loss.float()
            loss = loss + self._r1(phase, batch, result)
        # An inf/NaN loss still goes through backward: under fp16 the scaler must see the inf
        # gradients to lower its scale; otherwise the finite check below skips the step.
        try:
            (scaler.scale(loss) if scaled else loss).backward()
        except RuntimeError as error:
            if "modified by an inplace operation" not in str(error):
                raise
            raise PluginContractError(
                f"phase {phase.name!r} of {type(self.plugin).__name__}: backward failed because a tensor the loss "
                "used was modified in place. Backward runs after your step returns: don't modify in place a "
                "tensor the loss used (e.g. a buffer or ctx.state); update state in Phase.after_step. "
                f"(autograd: {error})") from None
        optimizers = self.optimizers[phase.name]
        loss_bad, grads_bad = self._exchange_and_check(loss, self.phase_params[phase.name], check=not scaled)

        if not scaled and (loss_bad or grads_bad):
            event = NonFiniteEvent(phase.name, step + 1, self._culprit(phase, loss, result, loss_bad))
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            self.ctx.pending.clear()  # a skipped step changes no plugin state
            self.counters[f"{phase.name}/nonfinite_{'loss' if loss_bad else 'grad'}"] += 1
            self.throughput.phases.stop(phase.name, token)
            self.guard.bad(event)
            return

        clip = self.train.grad_clip
        if measure or clip:
            if scaled:
                for optimizer in optimizers:
                    scaler.unscale_(optimizer)
            for name in phase.updates:
                grads = [p for p in self.nets[name].parameters() if p.grad is not None]
                norm = (torch.nn.utils.clip_grad_norm_(grads, clip) if clip
                        else torch.nn.utils.get_total_norm([p.grad for p in grads]))
                if measure:
                    self.window.diagnostics[f"{name}/grad_norm"] = norm.detach()
        if scaled:
            for optimizer in optimizers:
                scaler.step(optimizer)
                optimizer.zero_grad(set_to_none=True)
            scaler.update()
            self.scales[phase.name] = scale_after = float(scaler.get_scale())
            if scale_after < scale_before:  # the scaler found inf/NaN gradients and skipped the update
                self.ctx.pending.clear()
                self.counters[f"{phase.name}/amp_skipped"] += 1
                self.throughput.phases.stop(phase.name, token)
                if scale_before <= 1.0:  # no overflow of the scaling explains it: a real non-finite step
                    self.counters[f"{phase.name}/nonfinite_grad"] += 1
                    tensor = "loss" if not torch.isfinite(loss) else "gradients (fp16 overflow at loss scale ≤ 1)"
                    self.guard.bad(NonFiniteEvent(phase.name, step + 1, tensor))
                return  # a skipped step: no after_update, and its loss stays out of the logs
        else:
            for optimizer in optimizers:
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
        self.guard.good(phase.name)
        self.ctx.commit_pending()  # state the context's helpers computed (the path-length average)
        if phase.after_update is not None or phase.after_step is not None:
            with torch.no_grad():
                if phase.after_update is not None:
                    phase.after_update(self.nets)
                if phase.after_step is not None:
                    phase.after_step(self.nets, result, self.ctx)
        self.window.add(phase.name, loss, result, measure, self.scales[phase.name] if scaled else None)
        self.throughput.phases.stop(phase.name, token)

    def _exchange_and_check(self, loss: Tensor, params: list, check: bool) -> tuple[bool, bool]:
        """Average gradients across ranks (if several) and test loss and gradients for inf/NaN, in one sync."""
        if self.dist.enabled:
            loss_bad = (~torch.isfinite(loss.detach())).float()
            stop = torch.tensor(float(self.stop.reason is not None), device=loss.device)
            (loss_count, stop_count), grads_bad = self.dist.average_gradients(params, torch.stack([loss_bad, stop]),
                                                                              check_finite=check)
            self.stop.synced = self.stop.synced or stop_count > 0
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
        gamma = self.train.tricks.r1_gamma
        if not gamma or self.train.tricks.r1_every > 1:  # lazy R1 is a phase of its own (harness.train.lazy_r1)
            return 0.0
        total: Any = 0.0
        args = (batch.labels,) if self.plugin.spec.conditional and batch.labels is not None else ()
        for name in phase.updates:
            if name in self.discriminators:
                penalty = self.ctx.r1_penalty(self.step_nets[name], batch.real, *args)
                result.logs[f"r1_{name}"] = penalty.detach()
                total = total + 0.5 * gamma * penalty
        return total


def check_no_gradient(phase: Phase, nets: Networks) -> None:
    """A phase that keeps a network's graph for later must not have backpropagated into it."""
    for name in phase.keeps_graph:
        if any(p.grad is not None for p in nets[name].parameters()):
            raise PluginContractError(f"phase {phase.name!r} keeps the graph of {name!r} for a later phase, but its "
                                      f"loss reached {name}'s parameters: score the generated batch with .detach()")


def check_result(plugin: str, phase: str, result: PhaseResult, n: int, pack: int, scalar_scores: bool) -> None:
    """The contract on a PhaseResult's fields, checked without a host sync (shapes and types only)."""
    where = f"phase {phase!r} of {plugin}"
    if not isinstance(result.loss, Tensor) or result.loss.numel() != 1:
        shape = tuple(result.loss.shape) if isinstance(result.loss, Tensor) else type(result.loss).__name__
        raise PluginContractError(f"{where}: PhaseResult.loss must be a scalar tensor, got {shape}")
    for field_name in ("logs", "diagnostics"):
        for key, value in getattr(result, field_name).items():
            numeric = (isinstance(value, Tensor) and value.numel() == 1 and not value.dtype.is_complex
                       or isinstance(value, (int, float)) and not isinstance(value, bool))
            if not numeric:
                shown = f"a tensor of shape {tuple(value.shape)}" if isinstance(value, Tensor) else repr(value)[:60]
                raise PluginContractError(f"{where}: PhaseResult.{field_name}[{key!r}] must be a number or a "
                                          f"one-element tensor, got {shown}")
    per = max(n // pack, 1)
    for field_name in ("d_real", "d_fake"):
        scores = getattr(result, field_name)
        if scores is None:
            continue
        if not scalar_scores:
            raise PluginContractError(f"{where}: PhaseResult.{field_name} is set but {plugin}.scalar_scores is "
                                      "False (its D has no scalar scores); leave d_real/d_fake out")
        if not isinstance(scores, Tensor) or scores.dim() != 1 or scores.shape[0] % per:
            shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
            raise PluginContractError(
                f"{where}: PhaseResult.{field_name} must be D's scores as a 1-D tensor of length {n} (one per "
                f"sample){f' or {per} (one per pack of {pack})' if pack > 1 else ''} — or a multiple of it for "
                f"flattened patch scores — got shape {shape}")
