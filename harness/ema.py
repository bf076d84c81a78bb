"""Exponential moving average of the generators' weights (Yazıcı et al. 2019, arXiv 1806.04498)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class GeneratorEMA:
    def __init__(self, nets: dict[str, nn.Module], names: tuple[str, ...], decay: float, start: int = 0) -> None:
        self.decay, self.start = decay, start
        self.averaged = {name: copy.deepcopy(nets[name]).requires_grad_(False).eval() for name in names}

    @torch.no_grad()
    def update(self, nets: dict[str, nn.Module], step: int) -> None:
        weight = 1.0 if step < self.start else 1.0 - self.decay  # before `start`: track G exactly
        for name, shadow in self.averaged.items():
            source = nets[name]
            torch._foreach_lerp_(list(shadow.parameters()), list(source.parameters()), weight)
            for dst, src in zip(shadow.buffers(), source.buffers()):
                dst.copy_(src)

    def state_dict(self) -> dict:
        return {name: net.state_dict() for name, net in self.averaged.items()}

    def load_state_dict(self, state: dict) -> None:
        for name, net in self.averaged.items():
            net.load_state_dict(state[name])
