"""The training loop: one loop runs any plugin's phases (GUIDE §2, after stylegan2-ada's phases).

``fit`` reads top to bottom: the setup (``setup``: the run's state, one :class:`RunState` value, and
the loop's parts), then per iteration every phase in order (an interval phase only every
``every``-th iteration, a lazy R1 phase of the harness's among them), ``repeats`` times each, each
repeat on a fresh batch (``phase_step``: autocast, backward, gradient exchange, finite check,
clipping, the optimizer step) → EMA → one block of maintenance when due (``maintenance``: log
record, evaluation, checkpoint, sample plot, time limit, signals). The plugin sees none of this.
What reads and writes the run's state takes the :class:`RunState`, never the loop: ``state``
(checkpoint, resume, rollback) and ``summary`` (summary.json, report.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console

from ..contract.config import RunConfig
from ..contract.gan_plugin import Batch, Networks, Phase
from ..contract.registry import LoadedPlugin
from ..report.progress import TrainingProgress
from ..report.rundir import RunDir, out_of_space
from ..contract.errors import NonFiniteStop, StorageError
from . import process_control
from . import state as checkpointing  # checkpoint, resume, rollback of the RunState
from .guard import RollbackRequest
from .phase_step import check_no_gradient
from .run_state import RunState
from .setup import set_up
from .summary import write_summary

INTERRUPTED_EXIT_CODE = 130


class Trainer:
    """The loop over one run. ``trainer.state`` is the run's state; its fields are also the trainer's
    attributes by the names they had before (``trainer.nets``, ``trainer.step`` …: :data:`STATE_FIELDS`)."""

    #: all that harness modules other than this one use of a Trainer (tests/test_architecture.py checks it)
    ENTRY_POINTS = ("fit", "train_iteration", "sampling_networks", "state")
    state: RunState

    def __init__(self, run: RunConfig, plugin: LoadedPlugin, run_dir: RunDir, *, data_dir: Path | None = None,
                 download: bool = False, cpu: bool = False, progress: bool = True, resume: bool = False,
                 time_limit_s: float | None = None, log_with: str | tuple[str, ...] | None = None,
                 extractor_weights: Path | None = None, evaluate_and_plot: bool = True) -> None:
        """``time_limit_s``: stop training once this many seconds of ``fit`` have passed, write a checkpoint,
        then evaluate what was reached (status ``time-limit``; a bench entry's budget). ``log_with``:
        Accelerate trackers (tensorboard, wandb, mlflow, trackio) that receive records, grids and the config.
        ``extractor_weights``: a local weights file for ``train.eval_extractor`` (e.g. Inception's).
        ``evaluate_and_plot=False``: no metrics and no sample plots, during the run or at its end (the
        conformance checks; unlike ``train.evaluate=false``, the configuration does not record it)."""
        self.data_dir, self.time_limit_s, self.extractor_weights = data_dir, time_limit_s, extractor_weights
        self.show_progress, self.evaluate_and_plot = progress, evaluate_and_plot
        self.state, parts = set_up(run, plugin, run_dir, data_dir=data_dir, download=download, cpu=cpu, resume=resume,
                                   time_limit_s=time_limit_s, log_with=log_with, extractor_weights=extractor_weights)
        self.accelerator, self.tracker, self.stop = parts.accelerator, parts.tracker, parts.stop
        self.harness_phases, self.views, self.step_nets = parts.harness_phases, parts.views, parts.step_nets
        self.stepper, self.evaluator, self.spectral = parts.stepper, parts.evaluator, parts.spectral
        self.maintenance = parts.maintenance
        if resume:
            checkpointing.resume(self.state)
            self._restored()

    # -- the loop ---------------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train to ``train.steps`` (or a stop), evaluate and write the summary. Rank 0 holds the run
        directory's lock meanwhile, so a second run on it stops before changing anything; a full disk
        ends the run with one line naming the intact checkpoint and the resume command."""
        self.state.run_dir.hold()
        try:
            self.state.run_dir.remove_temporaries()  # half-written files of a killed earlier session
            return self._fit()
        except Exception as error:
            if not (isinstance(error, StorageError) or out_of_space(error)):
                raise
            raise StorageError(checkpointing.storage_message(self.state, error)) from None
        finally:
            self.state.run_dir.release()

    def _fit(self) -> dict[str, Any]:
        s, train = self.state, self.state.run.train
        self.maintenance.begin(self.data_dir, self.extractor_weights)  # config.json, trackers, a first good state
        # a live bar only on rank 0 and when asked for; other ranks print nothing
        console = None if (self.show_progress and s.is_main) else Console(stderr=True, force_terminal=False)
        self.stop.install()  # kept to the end: a signal during the final evaluation waits
        self.maintenance.start_clock()  # the time limit counts from here
        try:
            try:
                with TrainingProgress(train.steps, f"{s.run.model} on {s.run.dataset}", console=console,
                                      start=s.step) as progress:
                    if not s.is_main:
                        progress.show = progress.message = lambda *args, **kwargs: None  # type: ignore[method-assign]
                    self.progress = self.maintenance.progress = progress
                    progress.message(f"precision: {s.precision.name} ({s.precision.choice.reason})")
                    self._loop(progress)
            except NonFiniteStop as stop:
                s.status = "stopped"
                write_summary(s, stopped=str(stop))
                raise
            if s.status == "interrupted":
                return write_summary(s)
            self._set_trainable(tuple(s.nets))
            self.maintenance.finish(self._evaluate, self._plot)  # evaluation, checkpoint, plots
            return write_summary(s, stopped=s.time_limit_reached)
        finally:
            self.stop.restore()
            self.tracker.finish()

    def _loop(self, progress: TrainingProgress) -> None:
        s, train = self.state, self.state.run.train
        process_control.settle()  # the `ganzoo run` command deferred collection while it started
        s.checkpointed_at = time.monotonic()
        s.throughput.resume_clock()
        clock_step = s.step
        while s.step < train.steps:
            measure = (s.step + 1) % train.log_every == 0 or s.step + 1 == train.steps
            try:
                self.train_iteration(measure)
            except RollbackRequest as request:
                s.throughput.pause_clock(s.step - clock_step)
                checkpointing.rollback(s, request.event, progress)
                self._restored()
                s.throughput.resume_clock()
                clock_step = s.step
                continue
            self.set_step(s.step + 1)
            if s.ema is not None:
                s.ema.update(s.nets, s.step)
            due = self.maintenance.due(measure)  # the same on every rank
            if not due:
                if s.step % 10 == 0:
                    progress.advance(s.step)
                continue
            s.throughput.pause_clock(s.step - clock_step)
            if self.maintenance.run(due, self._evaluate, self._plot):  # a time limit or a signal ends training
                return
            s.throughput.resume_clock()
            clock_step = s.step
        s.throughput.pause_clock(s.step - clock_step)

    def train_iteration(self, measure: bool = False) -> None:
        """One iteration: every phase in order, ``repeats`` times each (what the benches time); an interval
        phase (``Phase.every``) only in the iterations whose index it divides."""
        s = self.state
        if s.rates.scheduled:
            s.rates.apply(s.step)
        try:
            for phase in s.phases:
                repeats = phase.repeats_at(s.step)  # 0: an interval phase's off iteration, or a skipped one
                if not repeats:
                    continue
                self._set_trainable(phase.updates + phase.keeps_graph)
                for _ in range(repeats):
                    self._run_phase(phase, measure)
                if phase.keeps_graph:
                    check_no_gradient(phase, s.nets)
        finally:
            s.ctx.clear_stash()  # a reused batch never outlives its iteration (nor reaches a checkpoint)

    def set_step(self, step: int) -> None:
        """Completed iterations: the context, the tricks' schedules and the signal message follow it."""
        self.state.step = self.state.ctx.step = self.stop.step = step
        for view in self.views.values():
            view.step = step

    def _restored(self) -> None:
        """After a resume or a rollback: the parts follow the restored step, and the EMA generators' standing
        BatchNorm statistics (computed for the old weights) are forgotten."""
        self.evaluator.forget_standing_statistics()
        self.set_step(self.state.step)

    # -- one phase ----------------------------------------------------------------------------------
    def _run_phase(self, phase: Phase, measure: bool) -> None:
        self.stepper.run(phase, self._next_batch(), self.state.step, measure)

    def _next_batch(self) -> Batch:
        s, start = self.state, time.perf_counter()
        batch = s.source.next_shard(s.run.train.batch_size, s.dist.rank, s.dist.world)
        moved = Batch(*(None if t is None else t.to(s.device, non_blocking=True)
                        for t in (batch.real, batch.labels, batch.real_b)))
        s.throughput.data_seconds += time.perf_counter() - start
        return moved

    def _set_trainable(self, names: tuple[str, ...]) -> None:
        """Only the phase's networks get parameter gradients: the others are inputs to its loss."""
        for key, net in self.state.nets.items():
            net.requires_grad_(key in names)

    # -- evaluation and plots: the hooks tests replace --------------------------------------------
    def sampling_networks(self) -> Networks:
        """The networks samples and metrics use: the EMA generators when enabled."""
        return self.maintenance.sampling_networks()

    def _evaluate(self) -> dict[str, Any]:
        """Score the trained generator and, with EMA, its average; ``last_metrics`` is the scored one's."""
        return self.maintenance.evaluate() if self.evaluate_and_plot else {}

    def _plot(self, tag: str) -> None:
        if self.evaluate_and_plot:
            self.maintenance.plot(tag)


#: the run's state by the names the trainer's attributes had before RunState: read and set on ``trainer.state``
STATE_FIELDS = (
    "run", "run_dir", "plugin", "data_info", "dist", "device", "phases", "precision", "scored_generator", "nets", "ema",
    "rates", "scalers", "counters", "ctx", "source", "throughput", "window", "warnings", "guard", "checkpoints", "step",
    "history", "last_metrics", "metric_protocols", "metrics_by_generator", "status", "time_limit_reached",
    "last_checkpoint", "resumed_from", "checkpointed_at", "good_state", "replicas_identical", "state_identical",
    "is_main", "optimizers", "phase_calls", "phase_seconds", "throughput_record")


def _state_field(name: str) -> property:
    return property(lambda self: getattr(self.state, name), lambda self, value: setattr(self.state, name, value),
                    doc=f"``trainer.state.{name}``")


for _name in STATE_FIELDS:
    setattr(Trainer, _name, _state_field(_name))
Trainer._scales = _state_field("scales")  # type: ignore[attr-defined]
