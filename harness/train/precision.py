"""Mixed precision: autocast for the forward pass and one GradScaler per phase for fp16.

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
import warnings

import torch

from ..contract.config import Precision
from ..contract.errors import ConfigError

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
# Measured on this project's 2-core x86 CPU (torch 2.14.1): dcgan/mnist ran at 8 images/s in fp16
# against ~900 in bf16 — CPUs without native half arithmetic emulate it.
CPU_FP16_ADVICE = ("fp16 autocast on a CPU is emulated on most processors and far slower than fp32 (dcgan/mnist: "
                   "8 images/s against ~900 in bf16 on our 2-core x86 test machine): use bf16 on CPU, fp16 on GPUs")


class PrecisionError(ConfigError):
    """The chosen precision cannot run on this device."""


class PrecisionPolicy:
    def __init__(self, precision: Precision, device: torch.device) -> None:
        self.name = precision
        self.dtype = DTYPES[precision]
        self.device_type = device.type
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise PrecisionError(f"precision bf16 needs a GPU with bfloat16 support; "
                                 f"{torch.cuda.get_device_name(device)} has none: use fp16")
        if precision == "fp16" and device.type == "cpu":
            warnings.warn(CPU_FP16_ADVICE, RuntimeWarning, stacklevel=2)

    @property
    def scaled(self) -> bool:
        return self.name == "fp16"

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def new_scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(self.device_type, enabled=self.scaled)
