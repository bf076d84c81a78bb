"""Build a torch optimizer from a plugin's OptimizerSpec (the harness owns the object)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..contract.plugin import OptimizerSpec


def build_optimizer(spec: OptimizerSpec, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    params = list(params)
    # foreach kernels batch the per-parameter updates: fewer, larger ops, which matters for small nets
    if spec.kind == "adam":
        return torch.optim.Adam(params, lr=spec.lr, betas=spec.betas, weight_decay=spec.weight_decay, foreach=True)
    if spec.kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay,
                                   foreach=True)
    return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay, foreach=True)
