"""The harness side of the plugin contract: noise, labels and penalties on the right device."""

from __future__ import annotations

import torch
from torch import Tensor

from . import penalties


class NoiseSource:
    """Random tensors from one seeded generator on the training device (so runs replay exactly)."""

    def __init__(self, device: torch.device, seed: int, num_classes: int | None = None) -> None:
        self.device = device
        self.num_classes = num_classes
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def latent(self, n: int, dim: int) -> Tensor:
        return torch.randn(n, dim, device=self.device, generator=self.generator)

    def random_labels(self, n: int) -> Tensor:
        if not self.num_classes:
            raise ValueError("random_labels() needs labelled data; this dataset has no classes")
        return torch.randint(self.num_classes, (n,), device=self.device, generator=self.generator)


class TrainingContext(NoiseSource):
    """Implements ``harness.plugin.StepContext``."""

    def __init__(self, device: torch.device, seed: int, num_classes: int | None, real_target: float = 1.0) -> None:
        super().__init__(device, seed, num_classes)
        self.step = 0
        self.real_target = real_target
        self.loss_scale = 1.0  # the current phase's fp16 loss scale, for the penalties

    def gradient_penalty(self, critic, real: Tensor, fake: Tensor, *args: Tensor, target: float = 1.0) -> Tensor:
        return penalties.gradient_penalty(critic, real, fake, *args, target=target, scale=self.loss_scale,
                                          generator=self.generator)

    def r1_penalty(self, critic, real: Tensor, *args: Tensor) -> Tensor:
        return penalties.r1_penalty(critic, real, *args, scale=self.loss_scale)
