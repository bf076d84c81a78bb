"""Turning a plugin's declarations into live objects: networks, checked phases, optimizers, schedules.

Every check here names the plugin and what it returned, because these are the first places a
plugin author's mistake surfaces.
"""

from __future__ import annotations

import torch
from torch import nn

from ..contract.config import TrainConfig
from ..contract.plugin import GANPlugin, Networks, OptimizerSpec, Phase
from ..report.diagnostics import RuleContext
from .distributed import DistributedError
from .optim import build_optimizer
from .resolve import ConfigError


class PluginContractError(TypeError):
    """A plugin returned something the contract does not allow; the message says what and where."""


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

    lr = spec lr × ``scale`` (the product of the NaN guard's rollback factors) × the spec's decay.
    """

    def __init__(self, plugin: GANPlugin, phases: list[Phase], nets: Networks, total_steps: int) -> None:
        specs = plugin.optimizers()
        needed = {net for phase in phases for net in phase.updates}
        missing = needed - set(specs)
        if missing:
            raise PluginContractError(f"{type(plugin).__name__}.optimizers() has no spec for {sorted(missing)}, "
                                      "which a phase updates")
        self.total_steps = total_steps
        self.scale = 1.0
        self.scheduled: dict[str, OptimizerSpec] = {
            net: specs[net] for net in sorted(needed) if getattr(specs[net], "decay", "none") != "none"}
        self.optimizers = {net: build_optimizer(specs[net], nets[net].parameters()) for net in sorted(needed)}

    def apply(self, step: int) -> None:
        """Set scheduled learning rates for the coming iteration."""
        for name, spec in self.scheduled.items():
            start = spec.decay_start * self.total_steps
            decay = 1.0 if step < start else max(0.0, (self.total_steps - step) / max(self.total_steps - start, 1.0))
            for group in self.optimizers[name].param_groups:
                group["lr"] = spec.lr * self.scale * decay


def check_machine(train: TrainConfig, device: torch.device) -> None:
    """Settings that depend on the machine, refused before any data is read."""
    if train.cpu_threads and device.type == "cpu":
        torch.set_num_threads(train.cpu_threads)
    if train.sync_batchnorm and device.type != "cuda":
        raise DistributedError("train.sync_batchnorm needs CUDA: torch's SyncBatchNorm only runs on GPU tensors "
                               "(its statistics are exchanged with NCCL), so it cannot work on CPU/gloo; "
                               "drop the option or train on GPUs")
    if train.evaluate and train.eval_extractor == "inception":
        from ..metrics.errors import MetricError
        from ..metrics.extractors import find_inception_weights

        try:  # now, not after hours of training when the final evaluation needs them
            find_inception_weights()
        except MetricError as error:
            raise ConfigError(f"train.eval_extractor = inception: {error} Or train without metrics "
                              "(train.evaluate=false) and score later with `ganzoo eval`.") from None


def rule_context(plugin: GANPlugin, phases: list[Phase]) -> RuleContext:
    discriminators, generators = set(plugin.discriminators), set(plugin.generators)
    return RuleContext(family=plugin.spec.family.value,
                       discriminator_phases=tuple(p.name for p in phases if discriminators & set(p.updates)),
                       generator_phases=tuple(p.name for p in phases if generators & set(p.updates)),
                       generators=tuple(plugin.generators), discriminators=tuple(plugin.discriminators))
