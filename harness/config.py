"""The fully resolved description of one run, and how it is assembled.

CLI → preset from ``registry.toml`` → ``--set`` overrides → pydantic validation against the
plugin's own config schema → :class:`RunConfig`, written verbatim to ``config.json``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .tricks import TricksConfig

Precision = Literal["fp32", "bf16", "fp16"]


class TrainConfig(BaseModel):
    """Harness-side settings, shared by every plugin."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    steps: int = Field(2000, ge=1, description="Training iterations (one iteration runs every phase once)")
    batch_size: int = Field(256, ge=1, le=1 << 16, description="Samples per batch, per process")
    seed: int = Field(0, ge=0, description="Seed for weights, noise and data order")
    resolution: int | None = Field(None, ge=8, le=1024, description="Image side length (None: the dataset's own)")
    precision: Precision = Field("fp32", description="fp32, or bf16/fp16 autocast mixed precision")
    log_every: int = Field(100, ge=1, description="Iterations between records in metrics.jsonl")
    eval_every: int = Field(0, ge=0, description="Iterations between metric evaluations (0: only at the end)")
    eval_samples: int = Field(2500, ge=1, description="Generated samples per evaluation (2,500 in the VEEGAN protocol)")
    sample_every: int = Field(0, ge=0, description="Iterations between sample plots (0: only at the end)")
    cpu_threads: int | None = Field(None, ge=1, le=256, description=(
        "torch intra-op threads on CPU (None: torch's default). 1 is fastest for tiny MLPs on a busy machine"))
    grad_clip: float | None = Field(None, gt=0, description="Clip each network's gradient norm to this value")
    ema_decay: float | None = Field(None, gt=0, lt=1, description=(
        "Generator EMA decay (Yazıcı et al. 2019, arXiv 1806.04498); samples and metrics use the average"))
    ema_start: int = Field(0, ge=0, description="Iteration at which the EMA starts averaging (copies G before)")
    tricks: TricksConfig = Field(default_factory=TricksConfig, description="Harness-side training tricks")


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    dataset: str
    preset: str | None = None
    train: TrainConfig = Field(default_factory=TrainConfig)
    params: dict[str, Any] = Field(default_factory=dict, description="The plugin's validated config")


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``["lr_g=1e-4", "train.ema_decay=0.999"]`` → nested dict; values parsed as JSON when they can be."""
    result: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set expects key=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        target = result
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return result
