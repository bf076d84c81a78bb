"""Lazy R1 for every plugin (``train.tricks.r1_every=k``): StyleGAN2's lazy regularization as a harness phase.

Karras et al. 2020 (arXiv 1912.04958), Appendix B: the R1 penalty changes slowly, so computing it every
k-th discriminator update, weighted by k, regularizes as much at a fraction of the cost. The harness adds
one interval phase (``Phase(every=k)``) right after the last phase that updates a discriminator; it
draws its own batch of real data and applies γ/2 · k · (D steps per iteration) · E‖∇D(x)‖² to every
discriminator a phase updates, with their optimizers — which get StyleGAN2's lr × k/(k+1),
β^(k/(k+1)) correction unless the plugin's ``OptimizerSpec`` already sets ``lazy_interval``.
With ``r1_every=1`` (the default) R1 is added to every discriminator step instead (``phase_step``).
"""

from __future__ import annotations

from ..contract.gan_plugin import Batch, GANPlugin, Networks, OptimizerSpec, Phase, PhaseResult, StepContext
from ..contract.tricks_config import TricksConfig


def phase_name(phases: list[Phase]) -> str:
    taken = {phase.name for phase in phases}
    return next(name for name in ("r1", "harness_r1", "harness_lazy_r1") if name not in taken)


def with_lazy_r1(plugin: GANPlugin, phases: list[Phase], tricks: TricksConfig) -> tuple[list[Phase], set[str]]:
    """The phases with the harness's lazy R1 phase inserted when ``r1_every`` > 1, and the harness phases' names."""
    every, gamma = tricks.r1_every, tricks.r1_gamma
    discriminators = [name for name in plugin.discriminators if any(name in p.updates for p in phases)]
    if every <= 1 or not gamma or not discriminators:
        return phases, set()
    judged = [p for p in phases if set(p.updates) & set(discriminators)]
    conditional = plugin.spec.conditional

    def r1_step(nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        d_steps = sum(p.repeats_at(ctx.step) for p in judged if p.every == 1) or 1
        weight = 0.5 * gamma * ctx.interval * d_steps
        args = (batch.labels,) if conditional and batch.labels is not None else ()
        total, logs = None, {}
        for name in discriminators:
            penalty = ctx.r1_penalty(nets[name], batch.real, *args)
            logs[f"r1_{name}"] = penalty.detach()
            total = weight * penalty if total is None else total + weight * penalty
        return PhaseResult(total, logs=logs)

    name = phase_name(phases)
    last = max(phases.index(p) for p in judged)
    phase = Phase(name, r1_step, updates=tuple(discriminators), every=every)
    return [*phases[:last + 1], phase, *phases[last + 1:]], {name}


def lazy_specs(specs: dict[str, OptimizerSpec], phases: list[Phase]) -> dict[str, OptimizerSpec]:
    """The optimizer specs with the lazy-regularization correction for the networks an interval phase of the
    harness updates (its ``every``), unless a spec already chose its own ``lazy_interval``."""
    corrected = dict(specs)
    for phase in phases:
        for name in phase.updates:
            spec = corrected.get(name)
            if spec is not None and spec.lazy_interval is None:
                corrected[name] = spec.model_copy(update={"lazy_interval": phase.every})
    return corrected
