"""Tiny runs shared by the Python API tests (one per session and dataset: each costs a few seconds)."""

from __future__ import annotations

import functools
from pathlib import Path

import ganzoo

SEED = 3
EVAL_SAMPLES = 500


@functools.cache
def _points_run(folder: str, dataset: str, ema: bool) -> ganzoo.Run:
    train = {"eval_samples": EVAL_SAMPLES, "log_every": 20, "ema_decay": 0.9 if ema else None}  # the preset has one
    return ganzoo.train("gan", dataset, steps=60, batch_size=64, seed=SEED, out=Path(folder) / f"{dataset}-{ema}",
                        cpu=True, progress=False, hidden=16, train=train)


def points_run(tmp_path_factory, dataset: str = "grid", ema: bool = True) -> ganzoo.Run:
    """A finished 60-step GAN run on a 2-D mixture (EMA kept unless ``ema=False``)."""
    return _points_run(str(tmp_path_factory.getbasetemp() / "api-runs"), dataset, ema)
