"""The fully resolved description of one run, and how it is assembled.

CLI → preset from ``registry.toml`` → ``--set`` overrides → pydantic validation against the
plugin's own config schema → :class:`RunConfig`, written verbatim to ``config.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .tricks_config import TricksConfig

Precision = Literal["auto", "fp32", "bf16", "fp16"]
#: the generator every command scores and samples unless told otherwise: the trained weights ("raw");
#: a run's EMA (train.ema_decay) is scored beside it and labelled "ema"
DEFAULT_GENERATOR: Literal["raw", "ema"] = "raw"
GENERATORS = ("raw", "ema")


class TrainConfig(BaseModel):
    """Harness-side settings, shared by every plugin."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    steps: int = Field(2000, ge=1, description="Training iterations (one iteration runs every phase once)")
    batch_size: int = Field(256, ge=1, le=1 << 16, description="Samples per batch, per process")
    seed: int = Field(0, ge=0, description="Seed for weights, noise and data order")
    resolution: int | None = Field(None, ge=8, le=1024, description="Image side length (None: the dataset's own)")
    precision: Precision = Field("auto", description=(
        "auto (bf16 where the hardware runs it natively: a bf16 GPU, a CPU with AVX512-BF16 or AMX; else fp32), "
        "fp32, or bf16/fp16 autocast mixed precision"))
    log_every: int = Field(100, ge=1, description="Iterations between records in metrics.jsonl")
    eval_every: int = Field(0, ge=0, description="Iterations between metric evaluations (0: only at the end)")
    eval_samples: int = Field(2500, ge=1, description="Generated samples per evaluation (2,500 in the VEEGAN protocol)")
    eval_extractor: str | None = Field(None, description=(
        "Feature network for image metrics: mnist-cnn, inception (local weights) or timm:NAME "
        "(None: the dataset's default, mnist-cnn for MNIST-like data, no image metric otherwise)"))
    holdout: int = Field(2000, ge=0, description=(
        "Images held out for evaluation, stratified by class, when a dataset has only one split (e.g. MNIST's "
        "test split only): models and the metrics classifier train on the rest and every metric scores against "
        "these; 0 trains and scores on the same images, which the summary then says"))
    evaluate: bool = Field(True, description="Compute metrics (eval_every and at the end); false for runs that "
                           "only measure speed")
    sample_every: int = Field(0, ge=0, description="Iterations between sample plots (0: only at the end)")
    cpu_threads: int | None = Field(None, ge=1, le=256, description=(
        "torch intra-op threads on CPU (None: torch's default). 1 is fastest for tiny MLPs on a busy machine"))
    grad_clip: float | None = Field(None, gt=0, description="Clip each network's gradient norm to this value")
    ema_decay: float | None = Field(None, gt=0, lt=1, description=(
        "Generator EMA decay (Yazıcı et al. 2019, arXiv 1806.04498). Evaluations score both the trained "
        "generator and the average (summary.json → metrics_by_generator); sample plots show the scored one"))
    ema_start: int = Field(0, ge=0, description="Iteration at which the EMA starts averaging (copies G before)")
    ema_rampup: float | None = Field(0.05, gt=0, le=1, description=(
        "EMA warm-up (stylegan2-ada): the average's half-life is at most this fraction of the iterations "
        "since ema_start, so a short run's average is not dominated by its first steps (None: no warm-up)"))
    scored_generator: Literal["raw", "ema"] | None = Field(DEFAULT_GENERATOR, description=(
        "Which generator summary.json → metrics and the best checkpoint use: the trained one (raw, the default "
        "everywhere: run, eval, sample, load, the leaderboards) or its EMA. With an EMA both are always scored "
        "and stored, labelled (None: raw, as ganzoo < 0.2 configs wrote it meant 'ema when kept')"))
    tricks: TricksConfig = Field(default_factory=TricksConfig, description="Harness-side training tricks")
    # -- checkpoints (harness.train.checkpoint) ---------------------------------------------------------
    checkpoint_every: int = Field(1000, ge=0, description=(
        "Iterations between checkpoints (0: only at the end and on interrupt); `--resume RUN_DIR` continues"))
    checkpoint_every_s: float = Field(600, ge=0, description=(
        "Seconds of training between checkpoints, whatever checkpoint_every says (0: off), so a crash or a "
        "killed process never loses more than this"))
    keep_checkpoints: int = Field(3, ge=1, le=1000, description="How many of the latest checkpoints to keep "
                                  "(the best one is kept in addition)")
    best_metric: str | None = Field(None, description=(
        "Evaluation metric that picks the best checkpoint, e.g. reverse_kl (lower is better) or modes_captured "
        "(higher); prefix 'max:' or 'min:' to set the direction. None: the first of reverse_kl, fid, kid, "
        "modes_captured that the evaluation reports"))
    # -- non-finite guard (harness.train.guard) ---------------------------------------------------------
    nan_policy: Literal["rollback", "stop"] = Field("rollback", description=(
        "After nan_patience non-finite steps of one phase in a row: roll back to the last good checkpoint with "
        "a lowered learning rate, or stop with a report"))
    nan_patience: int = Field(5, ge=1, le=10_000, description=(
        "Non-finite (skipped) steps of one phase in a row before nan_policy applies"))
    nan_lr_factor: float = Field(0.5, gt=0, lt=1, description="Learning-rate multiplier applied at each rollback")
    max_rollbacks: int = Field(3, ge=0, le=100, description="Rollbacks before the run stops anyway")
    # -- distribution and diagnostics -------------------------------------------------------------
    sync_batchnorm: bool = Field(False, description=(
        "Convert BatchNorm layers to SyncBatchNorm so statistics span all GPUs (CUDA only)"))
    spectral_diagnostics: bool = Field(False, description=(
        "Estimate the spectral norm of every discriminator layer by power iteration on log iterations"))
    # -- speed (docs/performance.md has the measurements) -----------------------------------------
    channels_last: bool = Field(True, description=(
        "Keep convolution weights in channels-last (NHWC) memory format: 1.1× faster for DCGAN in bf16 on CPU "
        "(oneDNN), and the layout tensor cores want on GPUs; no effect on MLPs"))
    compile: bool = Field(False, description=(
        "torch.compile every network (nn.Module.compile: checkpoints keep their keys); pays a compile time "
        "at the start, for GPUs; slower than eager on the 2-core CPU we measured"))

    @field_validator("eval_extractor")
    @classmethod
    def _extractor(cls, value: str | None) -> str | None:
        if value not in (None, "mnist-cnn", "inception"):
            raise ValueError("train.eval_extractor takes mnist-cnn or inception (the networks the harness can find "
                             "without options); score with another, e.g. timm:NAME, after training: ganzoo eval "
                             "RUN_DIR --extractor timm:NAME --extractor-weights FILE")
        return value

    @field_validator("best_metric")
    @classmethod
    def _direction(cls, value: str | None) -> str | None:
        if value is not None:
            name = value.split(":", 1)[1] if value.startswith(("max:", "min:")) else value
            if not name:
                raise ValueError("best_metric needs a metric name, e.g. reverse_kl or max:modes_captured")
        return value


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    dataset: str
    preset: str | None = None
    train: TrainConfig = Field(default_factory=TrainConfig)
    params: dict[str, Any] = Field(default_factory=dict, description="The plugin's validated config")

    @classmethod
    def from_run_dir(cls, run_dir: Path) -> RunConfig:
        """The run's configuration from its ``config.json`` (which also holds provenance we ignore here)."""
        document = json.loads((Path(run_dir) / "config.json").read_text())
        return cls.model_validate({key: document[key] for key in cls.model_fields if key in document})


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``["lr_g=1e-4", "train.ema_decay=0.999"]`` → nested dict; values parsed as JSON when they can be.
    ``params.lr_g`` is the same as ``lr_g``: registry.toml spells the plugin's fields under ``params``."""
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
        key = key.removeprefix("params.")
        target = result
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return result
