"""What a bench entry needs from the machine, and why it is skipped when the machine lacks it.

A suite that needs a GPU or the FID Inception weights is not an error on a laptop: its entries are
recorded as ``skipped`` with the reason and the fix, and ``--resume`` tries them again later.
"""

from __future__ import annotations

import os
from typing import Literal

Requirement = Literal["cuda", "inception-weights"]


def unmet(requirement: Requirement) -> str | None:
    """None when the machine has it, else one sentence saying what is missing and how to provide it."""
    if requirement == "cuda":
        import torch

        if torch.cuda.is_available():
            return None
        return "needs a CUDA GPU (this machine has none); run the suite on a GPU machine"
    if requirement == "inception-weights":
        from ..contract.errors import MetricError
        from ..metrics.extractors import find_inception_weights

        try:
            find_inception_weights()
        except MetricError as error:
            return str(error)
        return None
    raise ValueError(f"unknown requirement {requirement!r}")


def unmet_reasons(requirements: list[Requirement]) -> str | None:
    """Every missing requirement's reason, in one line (all of them: fixing one should not reveal the next)."""
    reasons = [reason for reason in map(unmet, requirements) if reason is not None]
    return "; and ".join(reasons) or None


def placement_problem(precision: str, processes: int) -> str | None:
    """Why ``processes`` workers at ``precision`` cannot be measured fairly here, or None."""
    import torch

    from ..train.precision import CPU_FP16_ADVICE, PrecisionPolicy
    from ..contract.errors import PrecisionError

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu" and precision == "fp16":
        return CPU_FP16_ADVICE  # a measurement of emulation, and it would spend the whole budget
    try:
        PrecisionPolicy(precision, device)
    except PrecisionError as error:
        return str(error)
    if device.type == "cuda" and processes > torch.cuda.device_count():
        return f"{processes} processes need {processes} GPUs; this machine has {torch.cuda.device_count()}"
    cores = os.cpu_count() or 1
    if device.type == "cpu" and processes > cores:
        return f"{processes} CPU processes on {cores} cores would measure contention, not scaling"
    return None


__all__ = ["Requirement", "unmet_reasons", "placement_problem", "unmet"]
