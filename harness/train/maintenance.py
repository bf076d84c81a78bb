"""What the loop does between iterations when it is due, and once before and after training.

After an iteration (``Maintenance.due`` decides, the same on every rank): the log record
(``records``), an evaluation of the trained generator and its EMA (``evaluator``), a checkpoint
(``state``), a sample plot, and the stops: the time limit (rank 0's clock) and signals (any
rank's, ``interrupts``). Before training, ``begin`` writes config.json and starts the trackers;
after it, ``finish`` evaluates, checkpoints and plots once more. Everything reached goes into the
run's :class:`RunState`; this module never sees the loop (evaluation and plots reach it as
callables, the hooks ``Trainer._evaluate`` and ``Trainer._plot``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract.gan_plugin import Networks
from ..report.diagnostics import SpectralEstimator
from ..report.progress import TrainingProgress
from ..report.trackers import RunTracker
from . import state
from .evaluator import RunEvaluator
from .process_control import TIME_LIMIT, StopRequest
from .resume import recorded_locations
from .log_records import progress_stats
from .run_state import RunState

Evaluate = Callable[[], dict[str, Any]]
Plot = Callable[[str], None]


@dataclass
class Due:
    """What the maintenance after one iteration does."""
    record: bool  #: a log iteration: a record with losses and diagnostics
    evaluate: bool
    checkpoint: bool
    sample: bool
    stop: bool  #: a signal on some process, or the time limit

    def __bool__(self) -> bool:
        return bool(self.record or self.evaluate or self.checkpoint or self.sample or self.stop)


class Maintenance:
    def __init__(self, s: RunState, evaluator: RunEvaluator, tracker: RunTracker, stop: StopRequest,
                 spectral: SpectralEstimator | None, time_limit_s: float | None) -> None:
        self.s, self.evaluator, self.tracker, self.stop, self.spectral = s, evaluator, tracker, stop, spectral
        self.time_limit_s = time_limit_s
        self.deadline: float | None = None  # time.monotonic() at which the time limit stops training
        self.progress: TrainingProgress | None = None  # the run's progress bar and messages, while fit runs

    # -- before and after training ----------------------------------------------------------------
    def begin(self, data_dir: Path | None, extractor_weights: Path | None) -> None:
        """Records a resumed run's later steps drop; config.json; trackers; a rollback's first good state."""
        s, train = self.s, self.s.run.train
        if s.resumed_from is not None:
            s.run_dir.truncate_metrics(s.step)
            s.history = s.run_dir.read_metrics() if s.is_main else []
        config = {**s.run.model_dump(mode="json"), "precision": s.precision.choice.as_dict(),
                  "data": s.source.describe(),
                  "data_info": s.data_info.model_dump(mode="json"), "plugin": s.plugin.spec.model_dump(mode="json"),
                  **recorded_locations(data_dir, extractor_weights)}
        s.run_dir.write_config(config)
        self.tracker.start(config)
        if train.nan_policy == "rollback" and s.good_state is None:
            s.good_state = state.snapshot(s)

    def start_clock(self) -> None:
        self.deadline = None if self.time_limit_s is None else time.monotonic() + self.time_limit_s

    def finish(self, evaluate: Evaluate, plot: Plot) -> None:
        """The final evaluation, record, checkpoint, plot and sample views; the run's status."""
        s = self.s
        final = {"step": s.step, "metrics": evaluate(), **self.by_generator(), **self.clock()}
        self.record(final)
        state.save_checkpoint(s, final["metrics"])
        plot("final")
        self.render_views()
        s.status = "time-limit" if s.time_limit_reached else "completed"

    # -- after an iteration, when due -------------------------------------------------------------
    def due(self, measure: bool) -> Due:
        """What is due after the iteration that completed ``s.step`` (every rank decides the same)."""
        s, train = self.s, self.s.run.train
        if s.is_main and self.deadline is not None and self.stop.reason is None and time.monotonic() >= self.deadline:
            self.stop.reason = TIME_LIMIT  # reaches the other ranks like a signal, at the next exchange
        last = s.step == train.steps
        return Due(record=measure,
                   evaluate=train.evaluate and _every(s.step, train.eval_every) and not last,
                   checkpoint=(_every(s.step, train.checkpoint_every) or self.checkpoint_time(measure)) and not last,
                   sample=_every(s.step, train.sample_every),
                   stop=self.stop.synced if s.dist.enabled else self.stop.reason is not None)

    def run(self, due: Due, evaluate: Evaluate, plot: Plot) -> bool:
        """Do what is due; True when training ends here (time limit or signal)."""
        s, progress, train = self.s, self.progress, self.s.run.train
        record = s.window.record(s.step, s.nets, s.optimizers, self.spectral, s.dist, s.throughput,
                                 s.counters) if due.record else None
        if due.evaluate:
            record = record or {"step": s.step}
            record.update(metrics=evaluate(), **self.by_generator(), **self.clock())
        if due.record and s.rates.plateaus:
            for change in s.rates.observe(s.step, s.window.plugin_values):
                progress.message(f"step {s.step}: {change}")
        if record is not None:
            self.record(record)
            if due.record:
                progress.show(s.step, progress_stats(record))
        # only rank 0 keeps the clock: every rank learns from it whether this stop is the time limit
        reason = s.dist.broadcast_object(self.stop.reason) if due.stop else None
        time_up = due.stop and reason == TIME_LIMIT  # the final checkpoint follows the evaluation
        if due.checkpoint or (due.stop and not time_up):
            state.save_checkpoint(s, record.get("metrics") if record and due.evaluate else None)
        if due.sample:
            plot(f"step_{s.step:07d}")
        resume_hint = f"ganzoo run {s.run.model} --resume {s.run_dir.path}"
        if time_up:
            s.time_limit_reached = (f"time limit of {self.time_limit_s:g} s reached after step "
                                    f"{s.step}/{train.steps}")
            progress.message(f"{s.time_limit_reached}: evaluating what was reached; continue with: {resume_hint}")
            return True
        if due.stop:
            s.status = "interrupted"
            progress.message(f"interrupted ({self.stop.reason or 'a signal to another process'}) after step "
                             f"{s.step}/{train.steps}: checkpoint {s.last_checkpoint}. Resume with:\n  "
                             f"{resume_hint}")
            return True
        return False

    def checkpoint_time(self, measure: bool) -> bool:
        """Whether ``train.checkpoint_every_s`` seconds passed since the last checkpoint. Several processes
        decide together, on log iterations (the same on every rank), by rank 0's clock."""
        s, every = self.s, self.s.run.train.checkpoint_every_s
        if not every:
            return False
        due = time.monotonic() - s.checkpointed_at >= every
        if not s.dist.enabled:
            return due
        return bool(s.dist.broadcast_object(due)) if measure else False

    # -- evaluation, samples, records -------------------------------------------------------------
    def sampling_networks(self) -> Networks:
        """The networks samples and metrics use: the EMA generators when enabled."""
        return self.evaluator.sampling_networks(self.s.nets, self.s.ema, self.s.step)

    def evaluate(self) -> dict[str, Any]:
        """Score the trained generator and, with EMA, its average; ``last_metrics`` is the scored one's."""
        s = self.s
        state.sync_buffers(s)
        candidates = {"raw": s.nets}
        if s.ema is not None and s.is_main and s.run.train.evaluate:
            candidates["ema"] = self.sampling_networks()
        results = self.evaluator.evaluate(candidates)
        s.metrics_by_generator = {label: metrics for label, (metrics, _) in results.items()}
        s.last_metrics, s.metric_protocols = results.get(s.scored_generator, ({}, {}))
        return s.last_metrics

    def by_generator(self) -> dict[str, Any]:
        """Both generators' metrics for a metrics.jsonl record, when there are two."""
        if len(self.s.metrics_by_generator) < 2:
            return {}
        return {"scored_generator": self.s.scored_generator, "metrics_by_generator": self.s.metrics_by_generator}

    def clock(self) -> dict[str, float]:
        """Training seconds so far (evaluations excluded, resumes included): equal-time comparisons read it."""
        return {"train_seconds": round(self.s.throughput.train_seconds, 3)}

    def plot(self, tag: str) -> None:
        """Sample plots show the scored generator: the trained one, or its EMA."""
        s = self.s
        if s.is_main:
            nets = self.sampling_networks() if s.scored_generator == "ema" else s.nets
            self.evaluator.plot(tag, nets, s.step)
            self.tracker.log_image(s.run_dir.samples / f"{tag}.png", s.step)

    def render_views(self) -> None:
        """The plugin's named sample views (``GANPlugin.sample_views``) into samples/, for report.md."""
        if self.s.is_main and self.s.source.info.kind.value != "points2d":
            self.evaluator.render_views(self.sampling_networks())

    def record(self, record: dict[str, Any]) -> None:
        s = self.s
        s.history.append(record)
        if s.is_main:
            for warning in s.warnings.check(s.history):
                self.progress.message(f"warning (step {warning.step}): {warning.message}")
        s.run_dir.append_metrics(record)
        self.tracker.log_record(record)


def _every(step: int, every: int) -> bool:
    return bool(every) and step % every == 0
