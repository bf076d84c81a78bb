"""Which training tricks a run asks for, and which of them cannot apply to a model.

The configuration half of ``harness.train.tricks``: validated with the rest of the run's
configuration, before any network exists, so an inapplicable trick is refused with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .model_spec import DataKind, Family, ModelSpec

#: DiffAugment's transformations (Zhao et al. 2020); implemented in ``harness.contract.augment``
POLICY_NAMES = ("color", "translation", "cutout")


def parse_policy(policy: str) -> list[str]:
    names = [name.strip() for name in policy.split(",") if name.strip()]
    unknown = [name for name in names if name not in POLICY_NAMES]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {unknown}; choose from {sorted(POLICY_NAMES)}")
    return names



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
    r1_every: int = Field(1, ge=1, le=10_000, description=(
        "Lazy R1 (StyleGAN2, Karras et al. 2020, arXiv 1912.04958): with k > 1 the harness applies R1 in a phase "
        "of its own every k iterations, weighted by k × D steps per iteration, instead of on every D step, and "
        "gives D's optimizer the lr×k/(k+1), β^(k/(k+1)) correction unless its OptimizerSpec sets lazy_interval"))
    minibatch_std: bool = Field(False, description=(
        "Minibatch standard-deviation feature in D (Karras et al. 2018, arXiv 1710.10196)"))
    minibatch_discrimination: int = Field(0, ge=0, le=512, description=(
        "Number of minibatch-discrimination kernels in D, 0 = off (Salimans et al. 2016, arXiv 1606.03498)"))

    @model_validator(mode="after")
    def _lazy_r1_needs_r1(self) -> TricksConfig:
        if self.r1_every > 1 and not self.r1_gamma:
            raise ValueError(f"r1_every={self.r1_every} schedules the R1 penalty, which is off: set r1_gamma > 0 too")
        return self

    @field_validator("diffaugment")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        parse_policy(value)
        return value

    @property
    def active(self) -> bool:
        return self != TricksConfig()


#: fields that schedule a trick rather than being one (they need the trick itself switched on)
SCHEDULES = ("instance_noise_steps", "r1_every")


def active_tricks(tricks: TricksConfig) -> list[str]:
    """The tricks switched on (fields that differ from their default; a schedule's length is no trick)."""
    default = TricksConfig()
    return [name for name in TricksConfig.model_fields
            if name not in SCHEDULES and getattr(tricks, name) != getattr(default, name)]


def incompatibilities(tricks: TricksConfig, spec: ModelSpec, data_kind: DataKind,
                      architecture_tricks: frozenset[str],
                      unsupported: Mapping[str, str] = MappingProxyType({})) -> list[str]:
    """Reasons why the chosen tricks cannot apply to this plugin and data (empty: all fine).

    ``unsupported``: the plugin's own refusals (``GANPlugin.unsupported_tricks``), trick → reason."""
    reasons = [f"{name}: {spec.name} does not support it: {unsupported[name]}"
               for name in active_tricks(tricks) if name in unsupported]
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
