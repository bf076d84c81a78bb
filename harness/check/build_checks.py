"""The build checks: ``build``, ``contract``, ``samples`` and ``seed``. They call the plugin's own
code as the harness does (``build()``, ``optimizers()``, ``phases()``, the phase steps, ``sample()``)
on CPU and check what comes back: networks and phases that fit together, no harness work done by the
plugin (see :mod:`.monitor`), finite samples of the data's shape and range, and samples that follow
the seed. Training itself is left to :mod:`.training_checks`.
"""

from __future__ import annotations

import sys

from .monitor import ContractViolation
from .session import CheckSession, Fail, Skip, error_text

SAMPLES = 16  # samples drawn by the samples and seed checks
RANGE_TOLERANCE = 1e-5


def check_build(session: CheckSession) -> str:
    import torch
    from torch import nn

    from ..contract.errors import DataError
    from ..contract.gan_plugin import OptimizerSpec, Phase

    session.need_run()
    try:
        instance, nets, source = session.built()
    except DataError as error:
        raise Fail(f"dataset {session.run.dataset!r}: {error}") from None
    except ContractViolation as error:
        raise Fail(str(error)) from None
    except Exception as error:  # noqa: BLE001
        raise Fail(f"build() failed: {error_text(error)}") from None
    cls = session.plugin.cls.__name__
    if not isinstance(nets, dict) or not nets or not all(isinstance(m, nn.Module) for m in nets.values()):
        raise Fail(f"{cls}.build() must return a non-empty dict of nn.Module by name, got {nets!r:.80}")
    declared = set(instance.generators) | set(instance.discriminators)
    if declared - set(nets):
        raise Fail(f"{cls} declares networks {sorted(declared - set(nets))} (generators/discriminators) that "
                   f"build() did not return (it returned {sorted(nets)})")
    for name, net in nets.items():
        for key, tensor in [*net.named_parameters(), *net.named_buffers()]:
            if tensor.device.type != "cpu":
                raise Fail(f"{name}.{key} was built on {tensor.device}: build networks on the CPU, the harness "
                           "places them")
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                raise Fail(f"{name}.{key} is not finite right after build()")
    try:
        phases = instance.phases()
        specs = instance.optimizers()
    except ContractViolation as error:
        raise Fail(str(error)) from None
    except Exception as error:  # noqa: BLE001
        raise Fail(f"phases()/optimizers() failed: {error_text(error)}") from None
    if not isinstance(phases, list) or not phases or not all(isinstance(p, Phase) for p in phases):
        raise Fail(f"{cls}.phases() must return a non-empty list of Phase, got {phases!r:.80}")
    if len({p.name for p in phases}) != len(phases):
        raise Fail(f"{cls}: phase names must be unique, got {[p.name for p in phases]}")
    for phase in phases:
        unknown = set(phase.updates) - set(nets)
        if unknown:
            raise Fail(f"phase {phase.name!r} updates {sorted(unknown)}, which build() did not return "
                       f"(it returned {sorted(nets)})")
    updated = {n for p in phases if p.optimizer is None for n in p.updates}  # a phase's own optimizer needs none
    if not isinstance(specs, dict) or updated - set(specs):
        missing = sorted(updated - set(specs)) if isinstance(specs, dict) else sorted(updated)
        raise Fail(f"{cls}.optimizers() has no OptimizerSpec for {missing}, which a phase updates")
    bad = [n for n in updated if not isinstance(specs[n], OptimizerSpec)]
    if bad:
        raise Fail(f"{cls}.optimizers() must give OptimizerSpec objects; {bad} are not")
    sizes = ", ".join(f"{n} {sum(p.numel() for p in m.parameters()):,}" for n, m in nets.items())
    order = ", ".join(f"{p.name}{f' ×{p.repeats_at(0)}' if p.repeats_at(0) > 1 else ''}"
                      f"{f' every {p.every}' if p.every > 1 else ''} → {'+'.join(p.updates)}" for p in phases)
    return f"{session.run.dataset} {tuple(source.info.shape)}: parameters {sizes}; phases {order}"


def check_contract(session: CheckSession) -> str:
    session.need_run()
    modules = {c.__module__ for c in session.plugin.cls.__mro__ if not c.__module__.startswith(("ganzoo.harness",
                                                                                               "builtins", "abc"))}
    for module_name in sorted(modules):
        module = sys.modules.get(module_name)
        for attr, value in vars(module).items() if module else ():
            try:
                origin = value.__name__ if isinstance(value, type(sys)) else getattr(value, "__module__", "")
            except Exception:  # noqa: BLE001 - exotic objects (lazy proxies) are not Accelerate's
                continue
            if isinstance(origin, str) and origin.split(".")[0] == "accelerate":
                raise Fail(f"module {module_name} imports Accelerate ({attr}); the harness owns devices, "
                           "precision and distribution: remove it")
    trainer, error = session.fp32_run()
    if not session.monitor.violations and trainer is not None and error is None:
        try:
            session.sample(trainer.state.plugin, trainer.sampling_networks(), 4, 0)
        except ContractViolation:
            pass
        except Exception:  # noqa: BLE001 - the samples check reports it
            pass
    if session.monitor.violations:
        raise Fail(session.monitor.violations[0])
    if error is not None:
        raise Skip(f"training stopped before the phases could be watched: {error_text(error)} (see fp32)")
    phases = ", ".join(repr(p.name) for p in trainer.state.phases)
    return (f"build(), phases {phases} ({trainer.state.step} iterations) and sample() left backward, optimizer "
            "steps and device placement to the harness")


def check_samples(session: CheckSession) -> str:
    import torch

    from ..contract.model_spec import DataKind

    session.need_run()
    instance, nets = session.built_for_sampling()
    try:
        out = session.sample(instance, nets, SAMPLES, 0)
    except ContractViolation as error:
        raise Fail(str(error)) from None
    except Exception as error:  # noqa: BLE001
        raise Fail(f"sample() failed: {error_text(error)}") from None
    if not isinstance(out, torch.Tensor):
        raise Fail(f"sample() must return a Tensor, got {type(out).__name__}")
    info = instance.data
    expected = (SAMPLES, *info.shape)
    if tuple(out.shape) != expected:
        raise Fail(f"sample(n={SAMPLES}) returned shape {tuple(out.shape)}; the data's samples have shape "
                   f"{tuple(info.shape)}, so expected {expected}")
    if not out.is_floating_point():
        raise Fail(f"sample() returned {out.dtype}; samples must be floating point")
    values = out.detach().float()
    if not torch.isfinite(values).all():
        bad = int((~torch.isfinite(values)).sum())
        raise Fail(f"sample() returned {bad} non-finite values out of {values.numel()}")
    low, high = values.min().item(), values.max().item()
    if info.kind != DataKind.points2d and info.value_range is not None:
        lo, hi = info.value_range
        if low < lo - RANGE_TOLERANCE or high > hi + RANGE_TOLERANCE:
            raise Fail(f"samples lie in [{low:.4g}, {high:.4g}] but {info.name}'s value_range is [{lo:g}, {hi:g}]"
                       " (end the generator with tanh for [-1, 1])")
    return f"shape {tuple(out.shape)} {str(out.dtype).replace('torch.', '')}, values in [{low:.3g}, {high:.3g}]"


def check_seed(session: CheckSession) -> str:
    import torch

    session.need_run()
    instance, nets = session.built_for_sampling()
    try:
        first, again, other = (session.sample(instance, nets, SAMPLES, seed).detach().float() for seed in (0, 0, 1))
    except ContractViolation as error:
        raise Fail(str(error)) from None
    except Exception as error:  # noqa: BLE001
        raise Fail(f"sample() failed: {error_text(error)}") from None
    if first.shape != again.shape or not torch.equal(first, again):
        delta = (first - again).abs().max().item() if first.shape == again.shape else float("nan")
        raise Fail(f"samples for the same seed differ (seed 0 twice, max |Δ| = {delta:.3g}): sample() draws "
                   "randomness outside the context it is given; draw noise with ctx.latent(n, dim)")
    if first.shape == other.shape and torch.equal(first, other):
        raise Fail("generator ignores the seed: samples for seeds 0 and 1 are identical; draw the noise with "
                   "ctx.latent(n, dim) (not a fixed or own torch.Generator, not a constant)")
    return "seed 0 twice: identical samples; seeds 0 and 1: different samples"
