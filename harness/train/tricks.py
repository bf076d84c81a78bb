"""The classic GAN training tricks as harness options that apply to any compatible plugin.

Input-side tricks (DiffAugment, instance noise, PacGAN packing) wrap each discriminator in a
:class:`DiscriminatorView`, so the plugin's own code stays the paper's; loss-side tricks reach
the plugin through the step context (``ctx.real_target``) or are added by the harness (R1).
Architecture tricks (minibatch std, minibatch discrimination) are read by plugins that list
them in ``GANPlugin.architecture_tricks``. An option that cannot apply to a plugin is
rejected when the run is configured, with the reason.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..contract.tricks_config import TricksConfig, parse_policy
from ..contract.augment import diff_augment
from ..contract.context import NoiseSource


class DiscriminatorView(nn.Module):
    """What a plugin's discriminator sees: augmented, noised and packed inputs.

    Holds no parameters of its own; ``inner`` is the plugin's network (optimizer, EMA and
    checkpoints use that one). Transparent: ``view(x, *args, **kwargs)`` transforms ``x`` only and
    passes everything else to ``inner``; attributes the view does not have (``view.k``,
    ``view.trunk``) are ``inner``'s; ``isinstance`` checks should use ``view.inner``.
    """

    def __init__(self, inner: nn.Module, tricks: TricksConfig, noise: NoiseSource) -> None:
        super().__init__()
        self.inner = inner
        self.tricks = tricks
        self.policy = parse_policy(tricks.diffaugment)
        self.noise = noise
        self.step = 0

    def noise_std(self) -> float:
        t = self.tricks
        return t.instance_noise * max(0.0, 1.0 - self.step / t.instance_noise_steps)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)  # the view's own parameters, buffers and submodules
        except AttributeError:
            return getattr(self._modules["inner"], name)

    def forward(self, x: Tensor, *args, **kwargs):
        if self.policy:
            x = diff_augment(x, self.policy, generator=self.noise.generator)
        std = self.noise_std() if self.tricks.instance_noise else 0.0
        if std > 0:
            x = x + std * torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=self.noise.generator)
        if self.tricks.pack > 1:
            x = pack(x, self.tricks.pack)
        return self.inner(x, *args, **kwargs)


def pack(x: Tensor, degree: int) -> Tensor:
    """(B, C, …) → (B/degree, degree·C, …): consecutive samples are concatenated along channels."""
    batch = x.shape[0]
    if batch % degree:
        raise ValueError(f"PacGAN packing of degree {degree} needs a batch size divisible by it, got {batch}")
    return x.reshape(batch // degree, degree * x.shape[1], *x.shape[2:])
