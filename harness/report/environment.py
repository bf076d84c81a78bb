"""What a number was measured on: versions, device, processes (recorded in summary.json)."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

import torch


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def environment(device: torch.device, processes: int = 1) -> dict:
    return {
        "ganzoo": _version("ganzoo"),
        "torch": torch.__version__,
        "accelerate": _version("accelerate"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "device_name": device_name(device),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processes": processes,
    }
