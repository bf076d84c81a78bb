"""Build a torch optimizer from a plugin's OptimizerSpec (the harness owns the object), with StyleGAN2's
lazy-regularization correction of lr and betas when the spec asks for it (``OptimizerSpec.lazy_interval``)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..contract.gan_plugin import OptimizerSpec


def parameter_groups(spec: OptimizerSpec, module: nn.Module) -> list[dict]:
    """``spec.param_groups`` (submodule-name prefix → lr) as torch parameter groups; the rest get ``spec.lr``.

    The longest matching prefix wins; a prefix that matches no parameter is an error."""
    ratio = spec.lazy_ratio()  # StyleGAN2's lazy-regularization correction of the learning rates (1 without)
    if not spec.param_groups:
        return [{"params": list(module.parameters()), "lr": spec.lr * ratio}]
    prefixes = sorted(spec.param_groups, key=len, reverse=True)
    groups: dict[str | None, list[nn.Parameter]] = {prefix: [] for prefix in prefixes}
    groups[None] = []
    for name, param in module.named_parameters():
        match = next((p for p in prefixes if name == p or name.startswith(p.rstrip(".") + ".")), None)
        groups[match].append(param)
    empty = [p for p in prefixes if not groups[p]]
    if empty:
        names = sorted({n.split(".")[0] for n, _ in module.named_parameters()})
        raise ValueError(f"OptimizerSpec.param_groups: {empty} name no parameters of {type(module).__name__} "
                         f"(its top-level submodules with parameters: {names})")
    result = [{"params": groups[None], "lr": spec.lr * ratio}] if groups[None] else []
    return result + [{"params": groups[p], "lr": spec.param_groups[p] * ratio} for p in sorted(spec.param_groups)]


def build_optimizer(spec: OptimizerSpec, params: Iterable[nn.Parameter] | list[dict]) -> torch.optim.Optimizer:
    params = list(params)
    # foreach kernels batch the per-parameter updates: fewer, larger ops, which matters for small nets. On CUDA
    # Adam and SGD take the fused kernel (one launch for all parameters); on CPU fused Adam measured no faster
    # than foreach (docs/performance.md), so CPU keeps foreach.
    first = next(iter(params[0]["params"]), None) if params and isinstance(params[0], dict) else \
        (params[0] if params else None)  # plain parameters, or parameter groups
    fused = first is not None and first.is_cuda
    kernel = {"fused": True} if fused else {"foreach": True}
    if spec.kind == "adam":
        return torch.optim.Adam(params, lr=spec.lr * spec.lazy_ratio(), betas=spec.corrected_betas(),
                                weight_decay=spec.weight_decay, **kernel)
    if spec.kind == "rmsprop":  # no fused RMSprop in torch 2.11
        return torch.optim.RMSprop(params, lr=spec.lr * spec.lazy_ratio(), momentum=spec.momentum,
                                   weight_decay=spec.weight_decay,
                                   foreach=True)
    return torch.optim.SGD(params, lr=spec.lr * spec.lazy_ratio(), momentum=spec.momentum,
                           weight_decay=spec.weight_decay, **kernel)
