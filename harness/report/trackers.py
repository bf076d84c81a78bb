"""Experiment trackers (``--log-with tensorboard,wandb,mlflow,trackio``) through Accelerate's own trackers.

ganzoo keeps no tracker clients of its own: the trainer's Accelerator is created with ``log_with`` and
a ``project_dir`` inside the run directory, and :class:`RunTracker` feeds it what the run writes anyway:

- every ``metrics.jsonl`` record (losses, diagnostics, throughput, counters, metrics of both generators),
  flattened to ``losses/D/loss``, ``throughput/images_per_s``, ``metrics/fid``, … at the record's step;
- every sample grid or scatter the run saves under ``samples/`` as an image (TensorBoard, W&B; MLflow
  as an artifact; trackio as a ``trackio.Image``);
- the resolved configuration (``config.json``: model, dataset, preset, train.*, params.*) as hyper-parameters.

Local by default: TensorBoard writes ``RUN_DIR/trackers/ganzoo/``; W&B runs offline into
``RUN_DIR/trackers`` unless ``WANDB_MODE`` is set; MLflow logs to ``RUN_DIR/trackers/mlruns`` unless
``MLFLOW_TRACKING_URI`` is set; trackio uses its local store. Only rank 0 logs. A tracker whose package
is missing stops the run before it starts, naming the extra that installs it (Accelerate alone would
silently skip it).
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..contract.errors import TrackerError

#: tracker name → the module that must be importable for it
TRACKERS = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow", "trackio": "trackio"}
PROJECT = "ganzoo"  # the W&B/trackio project and MLflow experiment; TensorBoard's sub-folder
TRACKER_DIR = "trackers"  # inside the run directory


def parse_log_with(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"tensorboard,wandb"`` or ``["tensorboard"]`` → checked, de-duplicated names (empty: no tracking)."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [n for v in value for n in str(v).split(",")]
    names = tuple(dict.fromkeys(n.strip().lower() for n in items if n.strip()))
    unknown = [n for n in names if n not in TRACKERS]
    if unknown:
        raise TrackerError(f"unknown tracker {', '.join(map(repr, unknown))} for --log-with; "
                           f"choose from {', '.join(TRACKERS)} (comma-separated)")
    missing = [n for n in names if importlib.util.find_spec(TRACKERS[n]) is None]
    if missing:
        extras = ",".join(missing)
        raise TrackerError(f"--log-with {', '.join(missing)}: the {' and '.join(missing)} package "
                           f"{'is' if len(missing) == 1 else 'are'} not installed; pip install 'ganzoo[{extras}]'")
    return names


def accelerator_options(names: tuple[str, ...], run_dir: Path) -> dict[str, Any]:
    """Keyword arguments for ``Accelerator(...)``: its trackers, writing inside the run directory."""
    if not names:
        return {}
    return {"log_with": list(names), "project_dir": str(Path(run_dir) / TRACKER_DIR)}


def flatten(value: Any, prefix: str = "") -> dict[str, float]:
    """Nested record → ``{"a/b/c": number}``: numbers and booleans only (strings, lists and None are left out)."""
    out: dict[str, float] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}/"))
    elif isinstance(value, bool):
        out[prefix[:-1]] = int(value)
    elif isinstance(value, (int, float)):
        out[prefix[:-1]] = value
    return out


def hyperparameters(config: dict[str, Any]) -> dict[str, Any]:
    """The resolved run configuration as flat ``train.batch_size``-style keys with scalar values."""
    chosen = {key: config[key] for key in ("model", "dataset", "preset", "train", "params") if key in config}
    if isinstance(config.get("data"), dict):
        chosen["data"] = {k: v for k, v in config["data"].items() if k != "cache_hit"}
    flat: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{prefix}{key}.")
        elif value is None or isinstance(value, (list, tuple)):
            flat[prefix[:-1]] = str(value if value is None else list(value))
        elif isinstance(value, float) and not math.isfinite(value):
            flat[prefix[:-1]] = str(value)
        else:
            flat[prefix[:-1]] = value

    walk(chosen, "")
    return flat


class RunTracker:
    """What the trainer calls: ``start(config)``, ``log_record(record)``, ``log_image(path, step)``, ``finish()``.

    With no tracker asked for every method does nothing, so the trainer needs no ``if``."""

    def __init__(self, accelerator: Any, names: tuple[str, ...], run_dir: Path, is_main: bool) -> None:
        self.accelerator, self.names, self.run_dir = accelerator, names, Path(run_dir)
        self.active = bool(names) and is_main
        self.started = False

    def _init_kwargs(self) -> dict[str, dict[str, Any]]:
        folder = self.run_dir / TRACKER_DIR
        kwargs: dict[str, dict[str, Any]] = {}
        if "wandb" in self.names:
            kwargs["wandb"] = {"name": self.run_dir.name, "dir": str(folder)}
            if not os.environ.get("WANDB_MODE"):
                kwargs["wandb"]["mode"] = "offline"
        if "mlflow" in self.names:
            kwargs["mlflow"] = {"run_name": self.run_dir.name}
            if not os.environ.get("MLFLOW_TRACKING_URI"):
                import mlflow

                mlflow.set_tracking_uri((folder / "mlruns").resolve().as_uri())
        if "trackio" in self.names:
            kwargs["trackio"] = {"name": self.run_dir.name}
        return kwargs

    def start(self, config: dict[str, Any]) -> None:
        if not self.active or self.started:
            return
        (self.run_dir / TRACKER_DIR).mkdir(parents=True, exist_ok=True)
        self.accelerator.init_trackers(PROJECT, config=hyperparameters(config), init_kwargs=self._init_kwargs())
        self.started = True

    def log_record(self, record: dict[str, Any]) -> None:
        if not self.started:
            return
        values = flatten({k: v for k, v in record.items() if k != "step"})
        if values:
            self.accelerator.log(values, step=int(record.get("step", 0)))

    def log_image(self, path: Path, step: int, tag: str = "samples") -> None:
        """A saved PNG (sample grid or scatter) as an image at ``step``."""
        if not self.started or not Path(path).is_file():
            return
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))  # (H, W, 3) uint8
        for tracker in self.accelerator.trackers:
            if tracker.name == "tensorboard":
                tracker.log_images({tag: pixels[None]}, step=step, dataformats="NHWC")
            elif tracker.name == "wandb":
                tracker.log_images({tag: [pixels]}, step=step)
            elif tracker.name == "mlflow":
                tracker.log_artifact(str(path), artifact_path="samples")
            elif tracker.name == "trackio":
                import trackio

                if hasattr(trackio, "Image"):
                    tracker.log({tag: trackio.Image(pixels)}, step=step)

    def finish(self) -> None:
        if self.started:  # each tracker's finish(), not end_training(): that also destroys the process group
            for tracker in self.accelerator.trackers:
                tracker.finish()
            self.started = False
