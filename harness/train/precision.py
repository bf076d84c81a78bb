"""Mixed precision: which precision a run uses, autocast, and one GradScaler per phase for fp16.

``precision = "auto"`` (the default) picks from the hardware, at run time, never from a figure
measured on one machine: bf16 where it runs natively (a CUDA device that supports bf16; a CPU with
AVX512-BF16 or AMX, probed with torch's own checks), fp32 otherwise. On a CPU without them,
autocast bf16 is emulated: dcgan/mnist ran 19× slower than fp32 on an AMD Zen 2 (0.40 against
7.3–7.9 it/s), so an explicit bf16 there still runs but warns.

A scaler per phase (never one shared by G and D) keeps one network's overflow from
shrinking the other's loss scale (GUIDE §2). bf16 has fp32's exponent range and needs no
scaler. The loss itself is always reduced in float32; parameters and optimizer state stay
float32 in every mode.

fp16 recipe (PyTorch AMP examples): backward of ``scaler.scale(loss)``; gradient penalties
differentiate the *scaled* critic output and unscale before the norm (``harness.contract.penalties``,
which reads the current scale from the step context); ``scaler.unscale_`` before measuring or
clipping gradients; ``scaler.step`` skips the update when any gradient is inf/NaN and
``scaler.update`` then halves the scale. The trainer counts those skips per phase
(``PHASE/amp_skipped``).
"""

from __future__ import annotations

import contextlib
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..contract.config import Precision
from ..contract.errors import PrecisionError
from ..report.environment import cpu_bf16_features

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
# Measured on this project's 2-core x86 CPU (torch 2.14.1): dcgan/mnist ran at 8 images/s in fp16
# against ~900 in bf16 — CPUs without native half arithmetic emulate it.
CPU_FP16_ADVICE = ("fp16 autocast on a CPU is emulated on most processors and far slower than fp32 (dcgan/mnist: "
                   "8 images/s against ~900 in bf16 on our 2-core x86 test machine): use bf16 on CPU, fp16 on GPUs")
CPU_BF16_ADVICE = ("precision bf16 on a CPU without native bf16 (no AVX512-BF16 or AMX) is emulated: expect it to "
                   "run many times slower than fp32 (dcgan/mnist: 19× slower on an AMD Zen 2); use --precision auto "
                   "(fp32 here) unless you need bf16's numerics")


@dataclass(frozen=True)
class PrecisionChoice:
    """What a run asked for, what it runs, and why (config.json, summary.json and report.md record it)."""

    requested: str
    resolved: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def choose_precision(requested: Precision, device: torch.device) -> PrecisionChoice:
    """Resolve ``auto`` from the device's capabilities; an explicit choice is kept, with the reason."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        native = torch.cuda.is_bf16_supported()
        hardware = f"{name} {'supports' if native else 'has no'} bf16"
    elif device.type == "cpu":
        features = cpu_bf16_features()
        native = bool(features)
        hardware = (f"this CPU has native bf16 ({', '.join(features)})" if native
                    else "this CPU has no native bf16 (no AVX512-BF16 or AMX): bf16 autocast would be emulated")
    else:
        native, hardware = False, f"bf16 support of device type {device.type!r} is unknown"
    if requested == "auto":
        return PrecisionChoice("auto", "bf16" if native else "fp32", f"auto: {hardware}")
    return PrecisionChoice(requested, requested, f"asked for {requested}; {hardware}")


def precision_for(requested: Precision, device: torch.device, resumed_run: Path | None = None) -> PrecisionChoice:
    """The run's precision; a resumed ``auto`` run keeps what its config.json recorded, so the
    continuation computes in the same precision as the start, whatever machine it resumes on."""
    choice = choose_precision(requested, device)
    if requested != "auto" or resumed_run is None:
        return choice
    try:
        recorded = json.loads((resumed_run / "config.json").read_text()).get("precision") or {}
    except (OSError, ValueError):
        return choice
    kept = recorded.get("resolved")
    if kept in DTYPES and kept != choice.resolved:
        return PrecisionChoice("auto", kept, f"auto: kept {kept}, which the run started with "
                                             f"({recorded.get('reason', 'no reason recorded')}); here {choice.reason}")
    return choice


class PrecisionPolicy:
    def __init__(self, precision: Precision | PrecisionChoice, device: torch.device) -> None:
        self.choice = precision if isinstance(precision, PrecisionChoice) else choose_precision(precision, device)
        self.name = self.choice.resolved
        self.dtype = DTYPES[self.name]
        self.device_type = device.type
        if self.name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise PrecisionError(f"precision bf16 needs a GPU with bfloat16 support; "
                                 f"{torch.cuda.get_device_name(device)} has none: use fp16 or auto")
        if self.choice.requested == "fp16" and device.type == "cpu":
            warnings.warn(CPU_FP16_ADVICE, RuntimeWarning, stacklevel=2)
        if self.choice.requested == "bf16" and device.type == "cpu" and not cpu_bf16_features():
            warnings.warn(CPU_BF16_ADVICE, RuntimeWarning, stacklevel=2)

    @property
    def scaled(self) -> bool:
        return self.name == "fp16"

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def new_scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(self.device_type, enabled=self.scaled)
