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


def cpu_bf16_features() -> list[str]:
    """The native-bf16 instruction sets of this CPU, from the probes torch uses for its bf16 kernels.

    ``torch.cpu._is_avx512_bf16_supported`` / ``_is_amx_tile_supported`` ask cpuinfo, as the
    oneDNN and inductor bf16 paths do; a torch without them (or a non-x86 CPU) reports none.
    """
    probes = {"AVX512-BF16": "_is_avx512_bf16_supported", "AMX": "_is_amx_tile_supported"}
    found = []
    for name, probe in probes.items():
        check = getattr(torch.cpu, probe, None)
        try:
            if check is not None and check():
                found.append(name)
        except Exception:  # noqa: BLE001 - a probe that fails means "not known to be native"
            pass
    return found


def cpu_model() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8", errors="replace"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
        "cpu_model": cpu_model(),
        "cpu_native_bf16": cpu_bf16_features(),
        "torch_threads": torch.get_num_threads(),
        "processes": processes,
    }
