"""The training loop: one loop runs any plugin's phases (GUIDE §2, after stylegan2-ada's phases).

Per iteration: every phase in order (an interval phase only every ``every``-th iteration, a lazy R1
phase of the harness's among them), ``repeats`` times each, each repeat on a fresh batch
(``phase_step``: autocast, backward, gradient exchange, finite check, clipping, the optimizer
step) → EMA → log record, evaluation, checkpoint and sample plot when due. The plugin sees none
of this. What surrounds the loop lives beside it: ``build`` (networks, optimizers, schedules),
``state`` (checkpoint, resume, rollback), ``evaluator`` (metrics and plots), ``records`` (log
records), ``summary`` (summary.json, report.md) and ``interrupts`` (signals, time limit).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from accelerate import Accelerator
from accelerate.utils import set_seed
from rich.console import Console

from ..contract.config import DEFAULT_GENERATOR, RunConfig
from ..contract.context import TrainingContext
from ..contract.plugin import Batch, GANPlugin, Networks, Phase
from ..contract.registry import LoadedPlugin
from ..data.base import DataSource
from ..data.catalog import open_dataset
from ..data.request import DataRequest
from ..report.diagnostics import EarlyWarnings, SpectralEstimator
from ..report.progress import TrainingProgress
from ..report.rundir import RunDir, StorageError, out_of_space
from ..report.throughput import Throughput
from ..report.trackers import RunTracker, accelerator_options, parse_log_with
from . import startup_gc, state
from .build import (LearningRates, PluginContractError, build_networks, check_machine,  # noqa: F401
                    check_phases, initial_state, rule_context)
from .checkpoint import CheckpointStore
from .conflicts import ConflictWatch
from .distributed import Distributed
from .ema import GeneratorEMA
from .evaluator import RunEvaluator
from .guard import NonFiniteGuard, NonFiniteStop, RollbackRequest
from .interrupts import TIME_LIMIT, StopRequest
from .lazy_r1 import with_lazy_r1
from .phase_step import PhaseStepper
from .precision import precision_for
from .records import LogWindow, progress_stats
from .state import ResumeError  # noqa: F401 - re-exported
from .locations import recorded_locations
from .state import storage_message
from .summary import write_summary
from .tricks import DiscriminatorView

INTERRUPTED_EXIT_CODE = 130


class Trainer:
    def __init__(self, run: RunConfig, plugin: LoadedPlugin, run_dir: RunDir, *, data_dir: Path | None = None,
                 download: bool = False, cpu: bool = False, progress: bool = True, resume: bool = False,
                 time_limit_s: float | None = None, log_with: str | tuple[str, ...] | None = None,
                 extractor_weights: Path | None = None) -> None:
        """``time_limit_s``: stop training once this many seconds of ``fit`` have passed, write a checkpoint,
        then evaluate what was reached (status ``time-limit``; a bench entry's budget). ``log_with``:
        Accelerate trackers (tensorboard, wandb, mlflow, trackio) that receive records, grids and the config.
        ``extractor_weights``: a local weights file for ``train.eval_extractor`` (e.g. Inception's)."""
        self.run, self.run_dir, self.data_dir, self.time_limit_s = run, run_dir, data_dir, time_limit_s
        self.extractor_weights = extractor_weights
        trackers = parse_log_with(log_with)  # a missing tracker package stops us here, before anything starts
        # Accelerate owns device placement, the process group and the trackers. Its own AMP stays off: it
        # keeps a single GradScaler, and GAN phases need one each (harness.train.precision).
        self.accelerator = Accelerator(cpu=cpu, mixed_precision="no", **accelerator_options(trackers, run_dir.path))
        self.device = self.accelerator.device
        self.dist = Distributed(self.accelerator.process_index, self.accelerator.num_processes, self.device)
        self.dist.check_world_size()
        self.is_main = self.dist.is_main
        run_dir.writable = self.is_main  # only rank 0 writes files
        self.tracker = RunTracker(self.accelerator, trackers, run_dir.path, self.is_main)  # and logs
        self.show_progress = progress
        train = run.train
        check_machine(train, self.device, extractor_weights)
        with self.accelerator.main_process_first():  # rank 0 downloads/decodes into the cache first
            self.source: DataSource = open_dataset(run.dataset, DataRequest(
                seed=train.seed, data_dir=data_dir, resolution=train.resolution, download=download,
                holdout=train.holdout))
        tricks = train.tricks
        self.data_info = self.source.info.model_copy(update={"pack": tricks.pack})
        self.plugin: GANPlugin = plugin.cls(plugin.cls.Config.model_validate(run.params), self.data_info, tricks)
        set_seed(train.seed)  # the same initial weights on every rank …
        self.nets = build_networks(self.plugin, self.device, train.sync_batchnorm, train.channels_last)
        self.source.place(self.device)  # in-memory images onto the GPU once; batches are then drawn by index
        self.dist.broadcast_modules(self.nets.values())  # … and rank 0's, whatever the plugin's init does
        set_seed(train.seed + self.dist.rank)  # per-rank global streams (dropout and the like)
        # the plugin's phases, and the harness's own (lazy R1, train.tricks.r1_every)
        self.phases, self.harness_phases = with_lazy_r1(
            self.plugin, check_phases(self.plugin, self.plugin.phases(), self.nets), tricks)
        self.rates = LearningRates(self.plugin, self.phases, self.nets, train.steps, self.harness_phases)
        # noise: one stream shared by all ranks, sharded per rank (harness.contract.context)
        self.ctx = TrainingContext(self.device, train.seed, self.source.info.num_classes,
                                   real_target=1.0 - tricks.label_smoothing, rank=self.dist.rank, world=self.dist.world)
        self.ctx.state = initial_state(self.plugin, self.device)  # the plugin's own state (k_t …), checkpointed
        self.views = {name: DiscriminatorView(self.nets[name], tricks, self.ctx.local)
                      for name in self.plugin.discriminators}
        # what phase steps see: discriminators behind the input-side tricks when any is on
        self.step_nets = Networks({**self.nets, **self.views}) if tricks.active else self.nets
        self.ema = GeneratorEMA(self.nets, self.plugin.generators, train.ema_decay, train.ema_start,
                                train.ema_rampup) if train.ema_decay else None
        if train.compile:  # after the EMA copies them: the averages stay eager
            for net in self.nets.values():
                net.compile()
        self.step = 0
        self.throughput = Throughput(self.device, train.batch_size, self.dist.world)
        self.window = LogWindow(self.plugin.spec.family.value)
        self.guard = NonFiniteGuard(train.nan_patience, train.nan_policy, train.max_rollbacks)
        self.stop = StopRequest(announce=self.is_main)
        self.stepper = PhaseStepper(self.plugin, self.nets, self.step_nets, self.phases,
                                    {phase.name: self.rates.for_phase(phase) for phase in self.phases},
                                    train, self.ctx, self.dist, self.guard, self.throughput, self.window, self.stop,
                                    ConflictWatch(self.plugin, tricks, self.harness_phases),
                                    precision_for(train.precision, self.device, run_dir.path if resume else None))
        self.evaluator = RunEvaluator(run, self.plugin, self.source, run_dir, self.dist, self.device, data_dir,
                                      extractor_weights)
        self.last_metrics: dict[str, Any] = {}
        self.metric_protocols: dict[str, Any] = {}  # how each number in last_metrics was computed
        self.metrics_by_generator: dict[str, dict[str, Any]] = {}  # "raw" and, with EMA, "ema"
        self.scored_generator = train.scored_generator or DEFAULT_GENERATOR
        self.history: list[dict[str, Any]] = []  # records of this run, for the early-warning rules
        self.warnings = EarlyWarnings(rule_context(self.plugin, self.phases))
        self.spectral = (SpectralEstimator(self.nets, [n for n in self.plugin.discriminators if n in self.nets])
                         if train.spectral_diagnostics else None)
        self.checkpoints = CheckpointStore(run_dir.checkpoints, train.keep_checkpoints, train.best_metric)
        self.last_checkpoint: Path | None = None
        self.checkpointed_at = time.monotonic()  # train.checkpoint_every_s counts from the last checkpoint
        self.resumed_from: Path | None = None
        self.status = "running"
        self.good_state: dict[str, Any] | None = None  # what a rollback restores
        self.time_limit_reached: str | None = None  # why training ended before train.steps, if it did
        self.replicas_identical: bool | None = None
        self.state_identical: bool | None = None  # plugin state across processes (data parallelism)
        if resume:
            state.resume(self)

    # -- the loop ---------------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train to ``train.steps`` (or a stop), evaluate and write the summary. Rank 0 holds the run
        directory's lock meanwhile, so a second run on it stops before changing anything; a full disk
        ends the run with one line naming the intact checkpoint and the resume command."""
        self.run_dir.hold()
        try:
            self.run_dir.remove_temporaries()  # half-written files of a killed earlier session
            return self._fit()
        except Exception as error:
            if not (isinstance(error, StorageError) or out_of_space(error)):
                raise
            raise StorageError(storage_message(self, error)) from None
        finally:
            self.run_dir.release()

    def _fit(self) -> dict[str, Any]:
        train = self.run.train
        if self.resumed_from is not None:
            self.run_dir.truncate_metrics(self.step)
            self.history = self.run_dir.read_metrics() if self.is_main else []
        config = {**self.run.model_dump(mode="json"), "precision": self.precision.choice.as_dict(),
                  "data": self.source.describe(),
                  "data_info": self.data_info.model_dump(mode="json"), "plugin": self.plugin.spec.model_dump(mode="json"),
                  **recorded_locations(self.data_dir, self.extractor_weights)}
        self.run_dir.write_config(config)
        self.tracker.start(config)
        if train.nan_policy == "rollback" and self.good_state is None:
            self.good_state = state.snapshot(self)
        # a live bar only on rank 0 and when asked for; other ranks print nothing
        console = None if (self.show_progress and self.is_main) else Console(stderr=True, force_terminal=False)
        self.stop.install()  # kept to the end: a signal during the final evaluation waits
        deadline = None if self.time_limit_s is None else time.monotonic() + self.time_limit_s
        try:
            try:
                with TrainingProgress(train.steps, f"{self.run.model} on {self.run.dataset}", console=console,
                                      start=self.step) as progress:
                    if not self.is_main:
                        progress.show = progress.message = lambda *args, **kwargs: None  # type: ignore[method-assign]
                    self.progress = progress
                    progress.message(f"precision: {self.precision.name} ({self.precision.choice.reason})")
                    self._loop(progress, deadline)
            except NonFiniteStop as stop:
                self.status = "stopped"
                write_summary(self, stopped=str(stop))
                raise
            if self.status == "interrupted":
                return write_summary(self)
            self._set_trainable(tuple(self.nets))
            final = {"step": self.step, "metrics": self._evaluate(), **self._by_generator(), **self._clock()}
            self._record(final)
            state.save_checkpoint(self, final["metrics"])
            self._plot("final")
            self._render_views()
            self.status = "time-limit" if self.time_limit_reached else "completed"
            return write_summary(self, stopped=self.time_limit_reached)
        finally:
            self.stop.restore()
            self.tracker.finish()

    def train_iteration(self, measure: bool = False) -> None:
        """One iteration: every phase in order, ``repeats`` times each (what the benches time); an interval
        phase (``Phase.every``) only in the iterations whose index it divides."""
        if self.rates.scheduled:
            self.rates.apply(self.step)
        try:
            for phase in self.phases:
                repeats = phase.repeats_at(self.step)  # 0: an interval phase's off iteration, or a skipped one
                if not repeats:
                    continue
                self._set_trainable(phase.updates + phase.keeps_graph)
                for _ in range(repeats):
                    self._run_phase(phase, measure)
                if phase.keeps_graph:
                    _check_no_gradient(phase, self.nets)
        finally:
            self.ctx.clear_stash()  # a reused batch never outlives its iteration (nor reaches a checkpoint)

    def _loop(self, progress: TrainingProgress, deadline: float | None) -> None:
        train = self.run.train
        startup_gc.settle()  # the `ganzoo run` command deferred collection while it started
        self.checkpointed_at = time.monotonic()
        self.throughput.resume_clock()
        clock_step = self.step
        while self.step < train.steps:
            measure = (self.step + 1) % train.log_every == 0 or self.step + 1 == train.steps
            try:
                self.train_iteration(measure)
            except RollbackRequest as request:
                self.throughput.pause_clock(self.step - clock_step)
                state.rollback(self, request.event, progress)
                self.throughput.resume_clock()
                clock_step = self.step
                continue
            self.set_step(self.step + 1)
            if self.ema is not None:
                self.ema.update(self.nets, self.step)
            if self.is_main and deadline is not None and self.stop.reason is None and time.monotonic() >= deadline:
                self.stop.reason = TIME_LIMIT  # reaches the other ranks like a signal, at the next exchange
            last = self.step == train.steps
            evaluate_now = train.evaluate and _due(self.step, train.eval_every) and not last
            checkpoint_now = (_due(self.step, train.checkpoint_every) or self._checkpoint_time(measure)) and not last
            sample_now = _due(self.step, train.sample_every)
            stop = self.stop.synced if self.dist.enabled else self.stop.reason is not None
            if not (measure or evaluate_now or checkpoint_now or sample_now or stop):
                if self.step % 10 == 0:
                    progress.advance(self.step)
                continue
            self.throughput.pause_clock(self.step - clock_step)
            record = self.window.record(self.step, self.nets, self.optimizers, self.spectral, self.dist,
                                        self.throughput, self.counters) if measure else None
            if evaluate_now:
                record = record or {"step": self.step}
                record.update(metrics=self._evaluate(), **self._by_generator(), **self._clock())
            if measure and self.rates.plateaus:
                for change in self.rates.observe(self.step, self.window.plugin_values):
                    progress.message(f"step {self.step}: {change}")
            if record is not None:
                self._record(record)
                if measure:
                    progress.show(self.step, progress_stats(record))
            # only rank 0 keeps the clock: every rank learns from it whether this stop is the time limit
            reason = self.dist.broadcast_object(self.stop.reason) if stop else None
            time_up = stop and reason == TIME_LIMIT  # the final checkpoint follows the evaluation
            if checkpoint_now or (stop and not time_up):
                state.save_checkpoint(self, record.get("metrics") if record and evaluate_now else None)
            if sample_now:
                self._plot(f"step_{self.step:07d}")
            resume_hint = f"ganzoo run {self.run.model} --resume {self.run_dir.path}"
            if time_up:
                self.time_limit_reached = (f"time limit of {self.time_limit_s:g} s reached after step "
                                           f"{self.step}/{train.steps}")
                progress.message(f"{self.time_limit_reached}: evaluating what was reached; continue with: "
                                 f"{resume_hint}")
                return
            if stop:
                self.status = "interrupted"
                progress.message(f"interrupted ({self.stop.reason or 'a signal to another process'}) after step "
                                 f"{self.step}/{train.steps}: checkpoint {self.last_checkpoint}. Resume with:\n  "
                                 f"{resume_hint}")
                return
            self.throughput.resume_clock()
            clock_step = self.step
        self.throughput.pause_clock(self.step - clock_step)

    def _checkpoint_time(self, measure: bool) -> bool:
        """Whether ``train.checkpoint_every_s`` seconds passed since the last checkpoint. Several processes
        decide together, on log iterations (the same on every rank), by rank 0's clock."""
        every = self.run.train.checkpoint_every_s
        if not every:
            return False
        due = time.monotonic() - self.checkpointed_at >= every
        if not self.dist.enabled:
            return due
        return bool(self.dist.broadcast_object(due)) if measure else False

    def set_step(self, step: int) -> None:
        """Completed iterations: the context, the tricks' schedules and the signal message follow it."""
        self.step = self.ctx.step = self.stop.step = step
        for view in self.views.values():
            view.step = step

    # -- one phase ----------------------------------------------------------------------------------
    def _run_phase(self, phase: Phase, measure: bool) -> None:
        self.stepper.run(phase, self._next_batch(), self.step, measure)

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

    # -- evaluation, samples, records -------------------------------------------------------------
    def sampling_networks(self) -> Networks:
        """The networks samples and metrics use: the EMA generators when enabled."""
        return self.evaluator.sampling_networks(self.nets, self.ema, self.step)

    def _evaluate(self) -> dict[str, Any]:
        """Score the trained generator and, with EMA, its average; ``last_metrics`` is the scored one's."""
        state.sync_buffers(self)
        candidates = {"raw": self.nets}
        if self.ema is not None and self.is_main and self.run.train.evaluate:
            candidates["ema"] = self.sampling_networks()
        results = self.evaluator.evaluate(candidates)
        self.metrics_by_generator = {label: metrics for label, (metrics, _) in results.items()}
        self.last_metrics, self.metric_protocols = results.get(self.scored_generator, ({}, {}))
        return self.last_metrics

    def _by_generator(self) -> dict[str, Any]:
        """Both generators' metrics for a metrics.jsonl record, when there are two."""
        if len(self.metrics_by_generator) < 2:
            return {}
        return {"scored_generator": self.scored_generator, "metrics_by_generator": self.metrics_by_generator}

    def _clock(self) -> dict[str, float]:
        """Training seconds so far (evaluations excluded, resumes included): equal-time comparisons read it."""
        return {"train_seconds": round(self.throughput.train_seconds, 3)}

    def _plot(self, tag: str) -> None:
        """Sample plots show the scored generator: the trained one, or its EMA."""
        if self.is_main:
            nets = self.sampling_networks() if self.scored_generator == "ema" else self.nets
            self.evaluator.plot(tag, nets, self.step)
            self.tracker.log_image(self.run_dir.samples / f"{tag}.png", self.step)

    def _render_views(self) -> None:
        """The plugin's named sample views (``GANPlugin.sample_views``) into samples/, for report.md."""
        if self.is_main and self.source.info.kind.value != "points2d":
            self.evaluator.render_views(self.sampling_networks())

    def _record(self, record: dict[str, Any]) -> None:
        self.history.append(record)
        if self.is_main:
            for warning in self.warnings.check(self.history):
                self.progress.message(f"warning (step {warning.step}): {warning.message}")
        self.run_dir.append_metrics(record)
        self.tracker.log_record(record)

    def throughput_record(self) -> dict[str, Any]:
        return self.throughput.combine(self.dist.gather_objects(self.throughput.local()))

    # -- the parts' state, by the names tests and benches use --------------------------------------
    optimizers = property(lambda self: self.rates.optimizers)
    scalers = property(lambda self: self.stepper.scalers)
    _scales = property(lambda self: self.stepper.scales)
    counters = property(lambda self: self.stepper.counters)
    precision = property(lambda self: self.stepper.precision)
    phase_calls = property(lambda self: dict(self.throughput.phases.calls))

    @property
    def phase_seconds(self) -> dict[str, float]:
        self.throughput.phases.flush()
        return dict(self.throughput.phases.seconds)


def _check_no_gradient(phase: Phase, nets: Networks) -> None:
    """A phase that keeps a network's graph for later must not have backpropagated into it."""
    for name in phase.keeps_graph:
        if any(p.grad is not None for p in nets[name].parameters()):
            raise PluginContractError(f"phase {phase.name!r} keeps the graph of {name!r} for a later phase, but its "
                                      f"loss reached {name}'s parameters: score the generated batch with .detach()")


def _due(step: int, every: int) -> bool:
    return bool(every) and step % every == 0
