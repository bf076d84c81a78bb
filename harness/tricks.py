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
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import Tensor, nn

from .augment import diff_augment, parse_policy
from .context import NoiseSource
from .spec import DataKind, Family, ModelSpec


class TricksConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    label_smoothing: float = Field(0.0, ge=0, le=0.5, description=(
        "One-sided label smoothing: real targets become 1 − s (Salimans et al. 2016, arXiv 1606.03498)"))
    instance_noise: float = Field(0.0, ge=0, description=(
        "Std of Gaussian noise added to every discriminator input, annealed linearly to 0 over "
        "instance_noise_steps (Sønderby et al. 2016, arXiv 1610.04490; Arjovsky & Bottou 2017, arXiv 1701.04862)"))
    instance_noise_steps: int = Field(10_000, ge=1, description="Iterations over which instance noise anneals to 0")
    diffaugment: str = Field("", description=(
        "DiffAugment policy, e.g. 'color,translation,cutout', applied to real and fake alike "
        "(Zhao et al. 2020, arXiv 2006.10738)"))
    pack: int = Field(1, ge=1, le=16, description=(
        "PacGAN packing: the discriminator judges this many samples jointly (Lin et al. 2018, arXiv 1712.04086)"))
    r1_gamma: float = Field(0.0, ge=0, description=(
        "R1 penalty weight γ: adds γ/2·E‖∇D(x)‖² on real data to every discriminator phase "
        "(Mescheder et al. 2018, arXiv 1801.04406)"))
    minibatch_std: bool = Field(False, description=(
        "Minibatch standard-deviation feature in D (Karras et al. 2018, arXiv 1710.10196)"))
    minibatch_discrimination: int = Field(0, ge=0, le=512, description=(
        "Number of minibatch-discrimination kernels in D, 0 = off (Salimans et al. 2016, arXiv 1606.03498)"))

    @field_validator("diffaugment")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        parse_policy(value)
        return value

    @property
    def active(self) -> bool:
        return self != TricksConfig()


def incompatibilities(tricks: TricksConfig, spec: ModelSpec, data_kind: DataKind,
                      architecture_tricks: frozenset[str]) -> list[str]:
    """Reasons why the chosen tricks cannot apply to this plugin and data (empty: all fine)."""
    reasons = []
    if tricks.label_smoothing and spec.family not in (Family.minimax, Family.least_squares):
        reasons.append(f"label_smoothing needs real/fake targets (minimax or least-squares loss); "
                       f"{spec.name} uses a {spec.family.value} loss")
    if tricks.diffaugment and data_kind != DataKind.images:
        reasons.append(f"diffaugment transforms images; {data_kind.value} data has none")
    if tricks.pack > 1 and data_kind == DataKind.unpaired_images:
        reasons.append("pack (PacGAN) judges samples of one distribution jointly; unpaired translation "
                       "discriminators judge translations of individual inputs")
    if tricks.pack > 1 and spec.conditional:
        reasons.append("pack (PacGAN) mixes samples of different classes; it is not defined for conditional models")
    if tricks.r1_gamma and data_kind == DataKind.unpaired_images:
        reasons.append("r1_gamma: the harness cannot tell which domain each discriminator judges; "
                       "use the plugin's own penalty option")
    for name in ("minibatch_std", "minibatch_discrimination"):
        if getattr(tricks, name) and name not in architecture_tricks:
            reasons.append(f"{name} changes the discriminator's architecture and {spec.name} does not offer it")
        elif getattr(tricks, name) and data_kind != DataKind.images:
            reasons.append(f"{name} is built into image discriminators only; {data_kind.value} data uses an MLP")
    return reasons


class DiscriminatorView(nn.Module):
    """What a plugin's discriminator sees: augmented, noised and packed inputs.

    Holds no parameters of its own; ``inner`` is the plugin's network (optimizer, EMA and
    checkpoints use that one).
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

    def forward(self, x: Tensor, *args: Tensor) -> Tensor:
        if self.policy:
            x = diff_augment(x, self.policy, generator=self.noise.generator)
        std = self.noise_std() if self.tricks.instance_noise else 0.0
        if std > 0:
            x = x + std * torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=self.noise.generator)
        if self.tricks.pack > 1:
            x = pack(x, self.tricks.pack)
        return self.inner(x, *args)


def pack(x: Tensor, degree: int) -> Tensor:
    """(B, C, …) → (B/degree, degree·C, …): consecutive samples are concatenated along channels."""
    batch = x.shape[0]
    if batch % degree:
        raise ValueError(f"PacGAN packing of degree {degree} needs a batch size divisible by it, got {batch}")
    return x.reshape(batch // degree, degree * x.shape[1], *x.shape[2:])
