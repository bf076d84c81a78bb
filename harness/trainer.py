"""The training loop: one loop runs any plugin's phases (GUIDE §2, after stylegan2-ada's phases).

Per phase and repeat: draw a batch → autocast forward (the plugin's step) → finite check →
scaled backward → unscale, measure and clip gradients → optimizer step → ``after_update``.
Per iteration: EMA, logging, evaluation, sample plots. The plugin sees none of this.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch import Tensor, nn

from .config import RunConfig
from .context import TrainingContext
from .data.base import DataSource
from .data.catalog import DataRequest, open_dataset
from .ema import GeneratorEMA
from .environment import environment
from .evaluation import evaluate, generate, parameter_count
from .optim import build_optimizer
from .plots import image_grid, scatter_points
from .plugin import Batch, GANPlugin, Networks, Phase, PhaseResult
from .precision import PrecisionPolicy
from .progress import TrainingProgress
from .registry import LoadedPlugin
from .rundir import RunDir
from .spec import DataKind
from .tricks import DiscriminatorView


class PluginContractError(TypeError):
    """A plugin returned something the contract does not allow; the message says what and where."""


class Trainer:
    def __init__(self, run: RunConfig, plugin: LoadedPlugin, run_dir: RunDir, *, data_dir: Path | None = None,
                 download: bool = False, cpu: bool = False, progress: bool = True) -> None:
        self.run = run
        self.run_dir = run_dir
        self.show_progress = progress
        # Accelerate owns device placement and the process group. Its own AMP stays off: it keeps a
        # single GradScaler, and GAN phases need one each (harness.precision).
        self.accelerator = Accelerator(cpu=cpu, mixed_precision="no")
        self.device = self.accelerator.device
        train = run.train
        if train.cpu_threads and self.device.type == "cpu":
            torch.set_num_threads(train.cpu_threads)
        set_seed(train.seed + self.accelerator.process_index)

        self.source: DataSource = open_dataset(run.dataset, DataRequest(
            seed=train.seed, data_dir=data_dir, resolution=train.resolution, download=download))
        config = plugin.cls.Config.model_validate(run.params)
        tricks = train.tricks
        data_info = self.source.info.model_copy(update={"pack": tricks.pack})
        self.plugin: GANPlugin = plugin.cls(config, data_info, tricks)
        self.nets = self._build_networks()
        self.phases = self._check_phases(self.plugin.phases())
        self.optimizers = self._build_optimizers()
        self.precision = PrecisionPolicy(train.precision, self.device)
        self.scalers = {phase.name: self.precision.new_scaler() for phase in self.phases}
        self.ctx = TrainingContext(self.device, train.seed + self.accelerator.process_index,
                                   self.source.info.num_classes, real_target=1.0 - tricks.label_smoothing)
        self.views = {name: DiscriminatorView(self.nets[name], tricks, self.ctx) for name in self.plugin.discriminators}
        # what phase steps see: discriminators behind the input-side tricks when any is on
        self.step_nets = Networks({**self.nets, **self.views}) if tricks.active else self.nets
        self.ema = (GeneratorEMA(self.nets, self.plugin.generators, train.ema_decay, train.ema_start)
                    if train.ema_decay else None)
        self.step = 0
        self.counters: dict[str, int] = defaultdict(int)  # non-finite losses, fp16-skipped steps, per phase
        self.phase_seconds: dict[str, float] = defaultdict(float)
        self.phase_calls: dict[str, int] = defaultdict(int)
        self.data_seconds = 0.0
        self.train_seconds = 0.0
        self._window: dict[str, list[Tensor]] = defaultdict(list)
        self._diagnostics: dict[str, float] = {}
        self.last_metrics: dict[str, Any] = {}

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
        return {net: build_optimizer(specs[net], self.nets[net].parameters()) for net in sorted(needed)}

    # -- one phase ------------------------------------------------------------------------------
    def _next_batch(self) -> Batch:
        start = time.perf_counter()
        batch = self.source.next_batch(self.run.train.batch_size)
        moved = Batch(*(None if t is None else t.to(self.device, non_blocking=True)
                        for t in (batch.real, batch.labels, batch.real_b)))
        self.data_seconds += time.perf_counter() - start
        return moved

    def _set_trainable(self, names: tuple[str, ...]) -> None:
        """Only the phase's networks get parameter gradients: the others are inputs to its loss."""
        for key, net in self.nets.items():
            net.requires_grad_(key in names)

    def _run_phase(self, phase: Phase, measure: bool) -> None:
        batch = self._next_batch()
        start = time.perf_counter()
        scaler = self.scalers[phase.name]
        self.ctx.loss_scale = scaler.get_scale() if scaler.is_enabled() else 1.0
        with self.precision.autocast():
            result = phase.step(self.step_nets, batch, self.ctx)
            if not isinstance(result, PhaseResult):
                raise PluginContractError(f"phase {phase.name!r} of {type(self.plugin).__name__} must return a "
                                          f"PhaseResult, got {type(result).__name__}")
            loss = result.loss.float()
            loss = loss + self._r1(phase, batch, result)
        optimizers = [self.optimizers[name] for name in phase.updates]
        if not torch.isfinite(loss):
            self.counters[f"{phase.name}/nonfinite_loss"] += 1
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            return
        scaler.scale(loss).backward()
        clip = self.run.train.grad_clip
        if measure or clip:
            for name, optimizer in zip(phase.updates, optimizers):
                scaler.unscale_(optimizer)
                norm = torch.nn.utils.clip_grad_norm_(self.nets[name].parameters(), clip or float("inf"))
                if measure:
                    self._diagnostics[f"{name}/grad_norm"] = float(norm)
        scale_before = self.ctx.loss_scale
        for optimizer in optimizers:
            scaler.step(optimizer)
            optimizer.zero_grad(set_to_none=True)
        if scaler.is_enabled():
            scaler.update()
            if scaler.get_scale() < scale_before:
                self.counters[f"{phase.name}/amp_skipped"] += 1
        if phase.after_update is not None:
            with torch.no_grad():
                phase.after_update(self.nets)
        self._record(phase.name, loss, result, measure)
        self.phase_seconds[phase.name] += time.perf_counter() - start
        self.phase_calls[phase.name] += 1

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
            for side, out in (("d_real", result.d_real), ("d_fake", result.d_fake)):
                if out is not None:
                    self._diagnostics[f"{phase}/{side}_mean"] = float(out.detach().float().mean())
            if result.d_real is not None:  # the ADA overfitting heuristic r_t = E[sign(D(x))] (Karras et al. 2020)
                self._diagnostics[f"{phase}/r_t"] = float(result.d_real.detach().float().sign().mean())

    # -- the loop -------------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        train = self.run.train
        self.run_dir.write_config({**self.run.model_dump(mode="json"), "data": self.source.describe(),
                                   "plugin": self.plugin.spec.model_dump(mode="json")})
        description = f"{self.run.model} on {self.run.dataset}"
        with TrainingProgress(train.steps, description, start=self.step) as progress:
            if not self.show_progress:
                progress.live = False
            started = time.perf_counter()
            while self.step < train.steps:
                measure = (self.step + 1) % train.log_every == 0 or self.step + 1 == train.steps
                for phase in self.phases:
                    self._set_trainable(phase.updates)
                    for _ in range(phase.repeats):
                        self._run_phase(phase, measure)
                self.step += 1
                self.ctx.step = self.step
                for view in self.views.values():
                    view.step = self.step
                if self.ema is not None:
                    self.ema.update(self.nets, self.step)
                if measure:
                    self.train_seconds += time.perf_counter() - started
                    record = self._log_record()
                    if train.eval_every and self.step % train.eval_every == 0 and self.step != train.steps:
                        record["metrics"] = self._evaluate()
                    self.run_dir.append_metrics(record)
                    progress.show(self.step, self._progress_stats(record))
                    started = time.perf_counter()
                elif self.step % 10 == 0:
                    progress.advance(self.step)
                if train.sample_every and self.step % train.sample_every == 0:
                    self._plot(f"step_{self.step:07d}")
            self._set_trainable(tuple(self.nets))
            final = {"step": self.step, "metrics": self._evaluate()}
            self.run_dir.append_metrics(final)
        self._plot("final")
        summary = self._summary()
        self.run_dir.write_summary(summary)
        return summary

    def sampling_networks(self) -> Networks:
        """The networks samples and metrics use: the EMA generators when enabled."""
        if self.ema is None:
            return self.nets
        return Networks({**self.nets, **self.ema.averaged})

    def _evaluate(self) -> dict[str, Any]:
        self.last_metrics = evaluate(self.plugin, self.sampling_networks(), self.source,
                                     self.run.train.eval_samples, seed=self.run.train.seed + 12345, device=self.device)
        return self.last_metrics

    def _plot(self, tag: str) -> None:
        if not self.accelerator.is_main_process:
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

    # -- records ---------------------------------------------------------------------------------
    def _throughput(self) -> dict[str, float]:
        seconds = max(self.train_seconds, 1e-9)
        world = self.accelerator.num_processes
        phase_total = sum(self.phase_seconds.values())
        result = {
            "iterations_per_s": self.step / seconds,
            "images_per_s": self.step * self.run.train.batch_size * world / seconds,
            "global_batch_size": self.run.train.batch_size * world,
            "processes": world,
            "data_share": self.data_seconds / max(self.data_seconds + phase_total, 1e-9),
            "peak_memory_mb": self._peak_memory_mb(),
        }
        for name, total in self.phase_seconds.items():
            result[f"ms_per_{name}_step"] = 1000 * total / max(self.phase_calls[name], 1)
        return result

    def _peak_memory_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB

    def _log_record(self) -> dict[str, Any]:
        losses = {key: float(torch.stack(values).mean()) for key, values in self._window.items()}
        self._window.clear()
        record = {"step": self.step, "losses": losses, "diagnostics": dict(self._diagnostics),
                  "throughput": self._throughput(), "counters": dict(self.counters)}
        self._diagnostics.clear()
        return record

    @staticmethod
    def _progress_stats(record: dict[str, Any]) -> dict[str, float]:
        stats = {key.replace("/loss", ""): value for key, value in record["losses"].items() if key.endswith("/loss")}
        stats["img/s"] = record["throughput"]["images_per_s"]
        return stats

    def _summary(self) -> dict[str, Any]:
        return {
            "model": self.run.model,
            "dataset": self.run.dataset,
            "preset": self.run.preset,
            "steps": self.step,
            "metrics": self.last_metrics,
            "throughput": self._throughput(),
            "counters": dict(self.counters),
            "parameters": {name: parameter_count(net) for name, net in self.nets.items()},
            "train_seconds": self.train_seconds,
            "environment": environment(self.device, self.accelerator.num_processes),
        }
