"""Mixed precision: autocast for the forward pass and one GradScaler per phase for fp16.

A scaler per phase (never one shared by G and D) keeps one network's overflow from
shrinking the other's loss scale (GUIDE §2). bf16 has fp32's exponent range and needs no
scaler. The loss itself is always reduced in float32.
"""

from __future__ import annotations

import contextlib

import torch

from .config import Precision

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class PrecisionPolicy:
    def __init__(self, precision: Precision, device: torch.device) -> None:
        self.name = precision
        self.dtype = DTYPES[precision]
        self.device_type = device.type

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def new_scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(self.device_type, enabled=self.name == "fp16")
