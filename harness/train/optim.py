"""Build a torch optimizer from a plugin's OptimizerSpec (the harness owns the object)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..contract.plugin import OptimizerSpec


def build_optimizer(spec: OptimizerSpec, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    params = list(params)
    # foreach kernels batch the per-parameter updates: fewer, larger ops, which matters for small nets. On CUDA
    # Adam and SGD take the fused kernel (one launch for all parameters); on CPU fused Adam measured no faster
    # than foreach (docs/performance.md), so CPU keeps foreach.
    fused = bool(params) and params[0].is_cuda
    kernel = {"fused": True} if fused else {"foreach": True}
    if spec.kind == "adam":
        return torch.optim.Adam(params, lr=spec.lr, betas=spec.betas, weight_decay=spec.weight_decay, **kernel)
    if spec.kind == "rmsprop":  # no fused RMSprop in torch 2.11
        return torch.optim.RMSprop(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay,
                                   foreach=True)
    return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay, **kernel)
