"""Setting a run up: everything ``Trainer.__init__`` builds, in the order that fixes the initial weights.

``set_up`` opens the dataset, builds the plugin, its networks, phases, optimizers, the step context,
the EMA and the parts that run one step, and returns two things: the run's state
(:class:`~ganzoo.harness.train.run_state.RunState`, what checkpoints, resume and the summary read
and write) and the loop's parts that are not state (:class:`LoopParts`). The order of the calls
below is part of the result: seeds are set between them, so moving one changes the initial weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import set_seed

from ..contract.config import DEFAULT_GENERATOR, RunConfig
from ..contract.context import TrainingContext
from ..contract.gan_plugin import Networks
from ..contract.registry import LoadedPlugin
from ..data.catalog import open_dataset
from ..data.base import DataRequest
from ..report.diagnostics import EarlyWarnings, SpectralEstimator
from ..report.rundir import RunDir
from ..report.throughput import Throughput
from ..report.trackers import RunTracker, accelerator_options, parse_log_with
from .build import LearningRates, build_networks, check_machine, check_phases, initial_state, rule_context
from .checkpoint import CheckpointStore
from .conflicts import ConflictWatch
from .distributed import Distributed
from .ema import GeneratorEMA
from .evaluator import RunEvaluator
from .guard import NonFiniteGuard
from .process_control import StopRequest
from .lazy_r1 import with_lazy_r1
from .maintenance import Maintenance
from .phase_step import PhaseStepper
from .precision import precision_for
from .log_records import LogWindow
from .run_state import RunState
from .tricks import DiscriminatorView


@dataclass(eq=False)
class LoopParts:
    """What runs the loop but is not the run's state (nothing here is checkpointed)."""
    accelerator: Accelerator  #: device placement, the process group, the trackers
    tracker: RunTracker
    harness_phases: set[str]  #: names of the harness's own phases among ``RunState.phases`` (lazy R1)
    views: dict[str, DiscriminatorView]  #: the discriminators behind the input-side tricks
    step_nets: Networks  #: what phase steps see: ``views`` in place of the discriminators when a trick is on
    stepper: PhaseStepper  #: one step of one phase
    evaluator: RunEvaluator
    stop: StopRequest  #: signals, and the time limit
    spectral: SpectralEstimator | None
    maintenance: Maintenance  #: what happens between iterations when due


def set_up(run: RunConfig, plugin: LoadedPlugin, run_dir: RunDir, *, data_dir: Path | None, download: bool,
           cpu: bool, resume: bool, time_limit_s: float | None, log_with: str | tuple[str, ...] | None,
           extractor_weights: Path | None) -> tuple[RunState, LoopParts]:
    """The run's state and the loop's parts, as ``Trainer`` documents its arguments."""
    trackers = parse_log_with(log_with)  # a missing tracker package stops us here, before anything starts
    # Accelerate owns device placement, the process group and the trackers. Its own AMP stays off: it
    # keeps a single GradScaler, and GAN phases need one each (harness.train.precision).
    accelerator = Accelerator(cpu=cpu, mixed_precision="no", **accelerator_options(trackers, run_dir.path))
    device = accelerator.device
    dist = Distributed(accelerator.process_index, accelerator.num_processes, device)
    dist.check_world_size()
    run_dir.writable = dist.is_main  # only rank 0 writes files
    tracker = RunTracker(accelerator, trackers, run_dir.path, dist.is_main)  # and logs
    train = run.train
    check_machine(train, device, extractor_weights)
    with accelerator.main_process_first():  # rank 0 downloads/decodes into the cache first
        source = open_dataset(run.dataset, DataRequest(
            seed=train.seed, data_dir=data_dir, resolution=train.resolution, download=download,
            holdout=train.holdout))
    tricks = train.tricks
    data_info = source.info.model_copy(update={"pack": tricks.pack})
    instance = plugin.cls(plugin.cls.Config.model_validate(run.params), data_info, tricks)
    set_seed(train.seed)  # the same initial weights on every rank …
    nets = build_networks(instance, device, train.sync_batchnorm, train.channels_last)
    source.place(device)  # in-memory images onto the GPU once; batches are then drawn by index
    dist.broadcast_modules(nets.values())  # … and rank 0's, whatever the plugin's init does
    set_seed(train.seed + dist.rank)  # per-rank global streams (dropout and the like)
    # the plugin's phases, and the harness's own (lazy R1, train.tricks.r1_every)
    phases, harness_phases = with_lazy_r1(instance, check_phases(instance, instance.phases(), nets), tricks)
    rates = LearningRates(instance, phases, nets, train.steps, harness_phases)
    # noise: one stream shared by all ranks, sharded per rank (harness.contract.context)
    ctx = TrainingContext(device, train.seed, source.info.num_classes,
                          real_target=1.0 - tricks.label_smoothing, rank=dist.rank, world=dist.world)
    ctx.state = initial_state(instance, device)  # the plugin's own state (k_t …), checkpointed
    ctx.optimizers = list(rates.optimizers.values())  # for ctx.optimizer_state (read-only copies)
    views = {name: DiscriminatorView(nets[name], tricks, ctx.local) for name in instance.discriminators}
    # what phase steps see: discriminators behind the input-side tricks when any is on
    step_nets = Networks({**nets, **views}) if tricks.active else nets
    ema = GeneratorEMA(nets, instance.generators, train.ema_decay, train.ema_start,
                       train.ema_rampup) if train.ema_decay else None
    if train.compile:  # after the EMA copies them: the averages stay eager
        for net in nets.values():
            net.compile()
    throughput = Throughput(device, train.batch_size, dist.world)
    window = LogWindow(instance.spec.family.value)
    guard = NonFiniteGuard(train.nan_patience, train.nan_policy, train.max_rollbacks)
    stop = StopRequest(announce=dist.is_main)
    stepper = PhaseStepper(instance, nets, step_nets, phases, {phase.name: rates.for_phase(phase) for phase in phases},
                           train, ctx, dist, guard, throughput, window, stop,
                           ConflictWatch(instance, tricks, harness_phases),
                           precision_for(train.precision, device, run_dir.path if resume else None))
    evaluator = RunEvaluator(run, instance, source, run_dir, dist, device, data_dir, extractor_weights)
    warnings = EarlyWarnings(rule_context(instance, phases))
    spectral = (SpectralEstimator(nets, [n for n in instance.discriminators if n in nets])
                if train.spectral_diagnostics else None)
    state = RunState(
        run=run, run_dir=run_dir, plugin=instance, data_info=data_info, dist=dist, device=device, phases=phases,
        precision=stepper.precision, scored_generator=train.scored_generator or DEFAULT_GENERATOR,
        nets=nets, ema=ema, rates=rates, scalers=stepper.scalers, scales=stepper.scales, counters=stepper.counters,
        ctx=ctx, source=source, throughput=throughput, window=window, warnings=warnings, guard=guard,
        checkpoints=CheckpointStore(run_dir.checkpoints, train.keep_checkpoints, train.best_metric),
        checkpointed_at=time.monotonic())  # train.checkpoint_every_s counts from the last checkpoint
    maintenance = Maintenance(state, evaluator, tracker, stop, spectral, time_limit_s)
    return state, LoopParts(accelerator, tracker, harness_phases, views, step_nets, stepper, evaluator, stop,
                            spectral, maintenance)
