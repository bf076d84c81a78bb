"""A training run at one moment, as one value: :class:`RunState`.

Checkpoints (``state.capture``), resume and rollback (``state.restore``), and the summary
(``summary.build_summary``) read and write this value and nothing else; the loop
(``trainer.Trainer``) owns one and hands it to them. Its fields are live objects shared with the
parts that update them during a step (the phase stepper updates ``scalers``, ``scales`` and
``counters`` in place; the log window, throughput and guard are the stepper's too), so the value is
always current. Fields come in three groups: what the run is (fixed at setup), what training
changes (everything a checkpoint holds), and what the run has reached so far (for the summary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..contract.config import RunConfig
from ..contract.context import TrainingContext
from ..contract.gan_plugin import GANPlugin, Networks, Phase
from ..contract.model_spec import DataInfo
from ..data.base import DataSource
from ..report.diagnostics import EarlyWarnings
from ..report.rundir import RunDir
from ..report.throughput import Throughput
from .build import LearningRates
from .checkpoint import CheckpointStore
from .distributed import Distributed
from .ema import GeneratorEMA
from .guard import NonFiniteGuard
from .precision import PrecisionPolicy
from .log_records import LogWindow


@dataclass(eq=False)
class RunState:
    # -- what the run is (fixed at setup) --------------------------------------------------------
    run: RunConfig
    run_dir: RunDir
    plugin: GANPlugin
    data_info: DataInfo  #: the dataset's DataInfo as the plugin sees it (``pack`` included)
    dist: Distributed  #: this process's rank and the number of processes
    device: torch.device
    phases: list[Phase]  #: the plugin's phases in order, the harness's own (lazy R1) among them
    precision: PrecisionPolicy
    scored_generator: str  #: "raw" or "ema": whose metrics are the run's
    # -- what training changes (a checkpoint holds all of it) --------------------------------------
    nets: Networks
    ema: GeneratorEMA | None
    rates: LearningRates  #: the optimizers, the rollbacks' learning-rate factor, plateau schedules
    scalers: dict[str, torch.amp.GradScaler]  #: one per phase
    scales: dict[str, float]  #: each phase's current loss scale (1.0 when unscaled), read without a host sync
    counters: dict[str, int]  #: non-finite and fp16-skipped steps per phase, rollbacks
    ctx: TrainingContext  #: the noise streams, and the plugin's own state (``ctx.state``)
    source: DataSource  #: the data order
    throughput: Throughput
    window: LogWindow  #: the open log window (losses since the last record, the plugin's diagnostics)
    warnings: EarlyWarnings
    guard: NonFiniteGuard
    checkpoints: CheckpointStore
    step: int = 0  #: completed iterations
    # -- what the run has reached (the summary reports it) -----------------------------------------
    history: list[dict[str, Any]] = field(default_factory=list)  #: this run's records (early-warning rules)
    last_metrics: dict[str, Any] = field(default_factory=dict)  #: the scored generator's latest metrics
    metric_protocols: dict[str, Any] = field(default_factory=dict)  #: how each number in last_metrics was computed
    metrics_by_generator: dict[str, dict[str, Any]] = field(default_factory=dict)  #: "raw" and, with EMA, "ema"
    status: str = "running"  #: then completed, time-limit, interrupted or stopped
    time_limit_reached: str | None = None  #: why training ended before train.steps, if it did
    last_checkpoint: Path | None = None
    resumed_from: Path | None = None
    checkpointed_at: float = 0.0  #: time.monotonic() of the last checkpoint (train.checkpoint_every_s)
    good_state: dict[str, Any] | None = None  #: what a rollback restores (an in-memory snapshot)
    replicas_identical: bool | None = None  #: the processes' networks agree (several processes)
    state_identical: bool | None = None  #: the processes' plugin state agrees (several processes)

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and logs."""
        return self.dist.is_main

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return self.rates.optimizers

    @property
    def phase_calls(self) -> dict[str, int]:
        """How many steps each phase took so far (an interval phase fewer)."""
        return dict(self.throughput.phases.calls)

    @property
    def phase_seconds(self) -> dict[str, float]:
        """Seconds each phase took so far (its steps, timed on the device)."""
        self.throughput.phases.flush()
        return dict(self.throughput.phases.seconds)

    def throughput_record(self) -> dict[str, Any]:
        """Every process's throughput, combined (every rank takes part)."""
        return self.throughput.combine(self.dist.gather_objects(self.throughput.local()))
