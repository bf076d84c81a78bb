"""Scoring and plotting during a run: which generator is sampled, on which process, with which seed.

Metrics are computed on rank 0 (every rank would draw the same samples) and broadcast to all.
Samples and plots use fixed seeds, so two evaluations of the same weights agree exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..contract.config import RunConfig
from ..contract.gan_plugin import GANPlugin, Networks
from ..contract.model_spec import DataKind
from ..data.base import DataSource
from ..evaluation.sampling import generate, render_view
from ..evaluation.plugin_scoring import evaluate_with_protocols, translation_grid
from ..report.plots import image_grid, scatter_points
from ..report.rundir import RunDir
from .distributed import Distributed
from .ema import GeneratorEMA, standing_batchnorm

EVAL_SEED_OFFSET = 12345  # evaluation samples: seed + this
GRID_SEED_OFFSET = 777  # image sample grids
STANDING_SEED_OFFSET = 4242  # the EMA generators' standing BatchNorm statistics


class RunEvaluator:
    def __init__(self, run: RunConfig, plugin: GANPlugin, source: DataSource, run_dir: RunDir, dist: Distributed,
                 device: torch.device, data_dir: Path | None, extractor_weights: Path | None = None) -> None:
        self.run, self.plugin, self.source, self.run_dir = run, plugin, source, run_dir
        self.dist, self.device, self.data_dir = dist, device, data_dir
        self.extractor_options = {"weights": extractor_weights} if extractor_weights else None
        self._standing_step: int | None = None  # step at which the EMA generators' BatchNorm stats were recomputed

    def forget_standing_statistics(self) -> None:
        self._standing_step = None

    def sampling_networks(self, nets: Networks, ema: GeneratorEMA | None, step: int) -> Networks:
        """The networks samples and metrics use: the EMA generators when enabled."""
        if ema is None:
            return nets
        sampled = Networks({**nets, **ema.averaged})
        if self._standing_step != step:  # once per step, however many evaluations and plots use it
            standing_batchnorm(self.plugin, sampled, tuple(ema.averaged), self.device,
                               seed=self.run.train.seed + STANDING_SEED_OFFSET)
            self._standing_step = step
        return sampled

    def evaluate(self, candidates: dict[str, Networks]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """{generator label: (metrics, the protocol of each)}, computed on rank 0 and shared with every rank.

        Every candidate (the trained generator "raw", and its average "ema") is scored on the same
        noise, so the two numbers differ only by the weights."""
        train = self.run.train
        results: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        if self.dist.is_main and train.evaluate:
            for label, nets in candidates.items():
                metrics, protocol = evaluate_with_protocols(
                    self.plugin, nets, self.source, train.eval_samples, seed=train.seed + EVAL_SEED_OFFSET,
                    device=self.device, data_dir=self.data_dir, extractor=train.eval_extractor,
                    extractor_options=self.extractor_options)
                results[label] = (metrics, protocol)
        return self.dist.broadcast_object(results)

    def render_views(self, nets: Networks) -> dict[str, Path]:
        """Every sample view of the plugin as ``samples/view_<name>.png`` (fixed seed)."""
        paths = {}
        for name in sorted(self.plugin.sample_views()):
            images, nrow = render_view(self.plugin, nets, name, self.run.train.seed + GRID_SEED_OFFSET, self.device)
            paths[name] = self.run_dir.samples / f"view_{name}.png"
            image_grid(images, paths[name], nrow=nrow)
        return paths

    def plot(self, tag: str, nets: Networks, step: int) -> None:
        if not self.dist.is_main:
            return
        train, path = self.run.train, self.run_dir.samples / f"{tag}.png"
        kind = self.source.info.kind
        if kind == DataKind.points2d:
            n = min(train.eval_samples, 2500)
            fake = generate(self.plugin, nets, n, train.seed + EVAL_SEED_OFFSET, self.device)
            real = self.source.reference(n, seed=train.seed + 999).real
            scatter_points(real, fake, path, title=f"{self.run.model} on {self.run.dataset}, step {step}")
        elif kind == DataKind.images:
            classes = self.source.info.num_classes if self.plugin.spec.conditional else None
            n = 10 * classes if classes else 64
            labels = torch.arange(n, device=self.device) // 10 if classes else None  # one row per class
            images = generate(self.plugin, nets, n, train.seed + GRID_SEED_OFFSET, self.device, labels=labels)
            image_grid(images, path, nrow=10 if classes else 8)
        elif kind == DataKind.unpaired_images:
            images = translation_grid(self.plugin, nets, self.source, 8, train.seed + GRID_SEED_OFFSET, self.device)
            image_grid(images, path, nrow=6)
