"""Turning a plugin's declarations into live objects: networks, checked phases, optimizers, schedules.

Every check here names the plugin and what it returned, because these are the first places a
plugin author's mistake surfaces.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import torch
from torch import nn

from ..contract.config import TrainConfig
from ..contract.errors import ConfigError, DistributedError, PluginContractError
from ..contract.gan_plugin import GANPlugin, Networks, OptimizerSpec, Phase
from ..report.diagnostics import RuleContext
from .lazy_r1 import lazy_specs
from .optim import build_optimizer, parameter_groups
from .log_records import find_diagnostic


def build_networks(plugin: GANPlugin, device: torch.device, sync_batchnorm: bool = False,
                   channels_last: bool = False) -> Networks:
    built = plugin.build()
    name = type(plugin).__name__
    if not isinstance(built, dict) or not all(isinstance(m, nn.Module) for m in built.values()):
        raise PluginContractError(f"{name}.build() must return a dict of nn.Module by name, got {type(built)}")
    declared = set(plugin.generators) | set(plugin.discriminators)
    if declared - set(built):
        raise PluginContractError(f"{name} declares networks {sorted(declared - set(built))} that build() "
                                  f"did not return (it returned {sorted(built)})")
    if sync_batchnorm:
        built = {key: nn.SyncBatchNorm.convert_sync_batchnorm(module) for key, module in built.items()}
    # channels_last only changes 4-D (convolution) weights; the plugin's code sees the same shapes
    layout = {"memory_format": torch.channels_last} if channels_last else {}
    return Networks({key: module.to(device, **layout) for key, module in built.items()})


def initial_state(plugin: GANPlugin, device: torch.device) -> dict[str, torch.Tensor]:
    """The plugin's training state (``GANPlugin.initial_state``) as tensors on the device."""
    name = type(plugin).__name__
    declared = plugin.initial_state()
    if not isinstance(declared, Mapping):
        raise PluginContractError(f"{name}.initial_state() must return a dict of name → float or tensor, "
                                  f"got {type(declared).__name__}")
    state = {}
    for key, value in declared.items():
        if isinstance(value, torch.Tensor):
            state[key] = value.detach().clone().to(device)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            state[key] = torch.tensor(float(value), dtype=torch.float32, device=device)
        else:
            raise PluginContractError(f"{name}.initial_state()[{key!r}] must be a float or a tensor, "
                                      f"got {type(value).__name__}")
    return state


def check_phases(plugin: GANPlugin, phases: list[Phase], nets: Networks) -> list[Phase]:
    name = type(plugin).__name__
    if not phases:
        raise PluginContractError(f"{name}.phases() returned no phase")
    for phase in phases:
        unknown = set(phase.updates) - set(nets)
        if unknown:
            raise PluginContractError(f"{name}: phase {phase.name!r} updates unknown networks {sorted(unknown)}")
        unknown = set(phase.keeps_graph) - set(nets)
        if unknown:
            raise PluginContractError(f"{name}: phase {phase.name!r} keeps the graph of unknown networks "
                                      f"{sorted(unknown)}")
    if len({p.name for p in phases}) != len(phases):
        raise PluginContractError(f"{name}: phase names must be unique, got {[p.name for p in phases]}")
    return phases


def params_of(nets: Networks, names: tuple[str, ...]) -> list[nn.Parameter]:
    """The parameters of these networks, each once (networks may share modules)."""
    seen: set[int] = set()
    params = []
    for name in names:
        for p in nets[name].parameters():
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


class LearningRates:
    """The optimizers of the networks some phase updates, and their learning-rate schedule.

    lr = spec lr (or its parameter group's) × ``scale`` (the product of the NaN guard's rollback
    factors) × the spec's decay × its plateau factor (``OptimizerSpec.plateau``, lowered by
    :meth:`observe` when a plugin diagnostic stops falling).
    """

    def __init__(self, plugin: GANPlugin, phases: list[Phase], nets: Networks, total_steps: int,
                 harness_phases: Collection[str] = ()) -> None:
        """``harness_phases``: names of the phases the harness added (lazy R1): the networks they update get
        the lazy-regularization correction (``OptimizerSpec.lazy_interval``) unless their spec sets one."""
        plugin_name = type(plugin).__name__
        specs = lazy_specs(dict(plugin.optimizers()), [p for p in phases if p.name in harness_phases])
        needed = {net for phase in phases if getattr(phase, "optimizer", None) is None for net in phase.updates}
        missing = needed - set(specs)
        if missing:
            raise PluginContractError(f"{plugin_name}.optimizers() has no spec for {sorted(missing)}, "
                                      "which a phase updates")
        self.total_steps = total_steps
        self.scale = 1.0
        #: optimizer key → spec: a network's name, or ``"<phase>:<networks>"`` for a phase's own optimizer
        chosen: dict[str, OptimizerSpec] = {net: specs[net] for net in sorted(needed)}
        #: phase name → the keys of the optimizers its steps step
        self.phase_keys: dict[str, list[str]] = {}
        for phase in phases:
            own = getattr(phase, "optimizer", None)
            if own is None:
                self.phase_keys[phase.name] = list(phase.updates)
            else:
                key = f"{phase.name}:{'+'.join(phase.updates)}"
                chosen[key] = own
                self.phase_keys[phase.name] = [key]
        self.scheduled: dict[str, OptimizerSpec] = {
            key: spec for key, spec in chosen.items() if getattr(spec, "decay", "none") != "none"}
        self.optimizers = {}
        for key, spec in chosen.items():
            members = [key] if key in nets else key.split(":", 1)[1].split("+")
            try:
                groups = [group for net in members for group in parameter_groups(spec, nets[net])]
            except ValueError as error:
                where = (f"{plugin_name}.optimizers()[{key!r}]" if key in nets
                         else f"{plugin_name}: phase {key.split(':')[0]!r} optimizer")
                raise PluginContractError(f"{where}: {error}") from None
            self.optimizers[key] = build_optimizer(spec, groups)
        self.base_lrs = {net: [g["lr"] for g in opt.param_groups] for net, opt in self.optimizers.items()}
        self.plateaus = {key: spec.plateau for key, spec in chosen.items() if spec.plateau is not None}
        #: per network with a plateau schedule: best value, step of the last improvement, factor so far
        self.plateau_progress: dict[str, dict[str, float]] = {
            net: {"best": float("inf"), "since": 0, "factor": 1.0} for net in self.plateaus}

    def for_phase(self, phase: Phase) -> list[torch.optim.Optimizer]:
        """The optimizers a step of ``phase`` steps."""
        return [self.optimizers[key] for key in self.phase_keys[phase.name]]

    def apply(self, step: int) -> None:
        """Set scheduled learning rates for the coming iteration."""
        for name, spec in self.scheduled.items():
            start = spec.decay_start * self.total_steps
            decay = 1.0 if step < start else max(0.0, (self.total_steps - step) / max(self.total_steps - start, 1.0))
            factor = self.plateau_progress[name]["factor"] if name in self.plateau_progress else 1.0
            for group, base in zip(self.optimizers[name].param_groups, self.base_lrs[name]):
                group["lr"] = base * self.scale * decay * factor

    def observe(self, step: int, diagnostics: dict[str, float]) -> list[str]:
        """Plateau schedules: a new value of their diagnostic at ``step``; returns what was lowered."""
        lowered = []
        for name, plateau in self.plateaus.items():
            value = find_diagnostic(diagnostics, plateau.diagnostic)
            if value is None or value != value:
                continue
            progress = self.plateau_progress[name]
            if value < progress["best"] * (1 - plateau.threshold if progress["best"] > 0 else 1 + plateau.threshold):
                progress["best"], progress["since"] = value, step
            elif step - progress["since"] >= plateau.patience:
                progress["factor"] *= plateau.factor
                progress["since"] = step  # patience again before the next cut
                for group in self.optimizers[name].param_groups:
                    group["lr"] = max(group["lr"] * plateau.factor, plateau.min_lr)
                lowered.append(f"{name} lr ×{plateau.factor:g} ({plateau.diagnostic} has not fallen below "
                               f"{progress['best']:.4g} for {plateau.patience} iterations)")
        return lowered

    def plateau_state(self) -> dict[str, dict[str, float]]:
        return {net: dict(progress) for net, progress in self.plateau_progress.items()}

    def load_plateau_state(self, saved: dict[str, dict[str, float]]) -> None:
        for net, progress in saved.items():
            if net in self.plateau_progress:
                self.plateau_progress[net] = dict(progress)


def check_machine(train: TrainConfig, device: torch.device, extractor_weights: Path | None = None) -> None:
    """Settings that depend on the machine, refused before any data is read."""
    if train.cpu_threads and device.type == "cpu":
        torch.set_num_threads(train.cpu_threads)
    if train.sync_batchnorm and device.type != "cuda":
        raise DistributedError("train.sync_batchnorm needs CUDA: torch's SyncBatchNorm only runs on GPU tensors "
                               "(its statistics are exchanged with NCCL), so it cannot work on CPU/gloo; "
                               "drop the option or train on GPUs")
    if train.evaluate and train.eval_extractor == "inception":
        from ..contract.errors import MetricError
        from ..metrics.extractors import find_inception_weights

        try:  # now, not after hours of training when the final evaluation needs them
            find_inception_weights(extractor_weights)
        except MetricError as error:
            raise ConfigError(f"train.eval_extractor = inception: {error} Or train without metrics "
                              "(train.evaluate=false) and score later with `ganzoo eval`.") from None


def rule_context(plugin: GANPlugin, phases: list[Phase]) -> RuleContext:
    discriminators, generators = set(plugin.discriminators), set(plugin.generators)
    return RuleContext(family=plugin.spec.family.value,
                       discriminator_phases=tuple(p.name for p in phases if discriminators & set(p.updates)),
                       generator_phases=tuple(p.name for p in phases if generators & set(p.updates)),
                       generators=tuple(plugin.generators), discriminators=tuple(plugin.discriminators))
