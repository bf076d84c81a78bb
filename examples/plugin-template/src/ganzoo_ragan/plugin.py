"""Relativistic average GAN — Jolicoeur-Martineau 2018 (arXiv 1807.00734), for 2-D points and images.

Architecture: the zoo's own builders, so RaGAN is compared with GAN/DCGAN on equal networks:
an MLP generator and discriminator on points (``ganzoo.zoo.mlp``, as ``gan`` uses), the DCGAN
family on images (``ganzoo.zoo.blocks``, as ``dcgan`` uses; depth follows the resolution).
Loss: the relativistic average discriminator (``ganzoo_ragan.losses``): RaSGAN by default,
RaLSGAN or RaHingeGAN on request (§4.3).
Update rule: one D step then one G step, Adam (α = 2e-4, β = (0.5, 0.999)) as in the paper's
experiments. The generator step reads a real batch too: in a relativistic GAN, G's loss depends
on real data.

Plugin state and a diagnostic (contract v2, for the template's sake): the plugin keeps an
exponential moving average of D's relativistic gap E[C(x_r)] − E[C(x_f)] as training state
(``initial_state``), updated after every applied D step (``Phase.after_step``) from the gap averaged
over data-parallel processes (``ctx.mean_over_processes``), and reports it as the diagnostic
``gap_ema`` (summary.json, report.md, ``train.best_metric``). It does not change the method.

Everything else — devices, precision, data parallelism, backward, optimizer steps, EMA, tricks,
checkpoints, metrics — is the harness's: this file never calls ``.backward()`` or ``.step()``
and never moves a tensor. ``ganzoo check ragan`` verifies that.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelConfig, ModelSpec, Networks,
                                   OptimizerSpec, Phase, PhaseResult, StepContext)
from ganzoo.zoo.blocks import ImageDiscriminator, ImageGenerator
from ganzoo.zoo.mlp import PointsDiscriminator, PointsGenerator

from ganzoo_ragan import losses


class RaGANConfig(ModelConfig):
    """Every field has bounds and a description: `ganzoo show ragan` prints them, `--set` is checked."""

    loss: Literal["rasgan", "ralsgan", "rahinge"] = Field(
        "rasgan", description="Relativistic average objective: RaSGAN (eq. 9–10), RaLSGAN or RaHingeGAN (§4.3)")
    latent_dim: int | None = Field(None, ge=1, le=4096, description=(
        "Size of the noise vector z (None: 2 for points, as gan; 100 for images, as dcgan)"))
    hidden: int = Field(128, ge=4, le=4096, description="Points: width of the hidden layers of G and D")
    depth: int = Field(3, ge=1, le=16, description="Points: number of hidden layers of G and D")
    base_channels: int = Field(64, ge=1, le=1024, description=(
        "Images: channels of G's last and D's first hidden layer, doubled per resolution stage (DCGAN: 64)"))
    d_steps: int = Field(1, ge=1, le=100, description="D steps per G step (paper: 1)")
    lr_g: float = Field(2e-4, gt=0, le=1, description="Adam learning rate of G (paper: 2e-4)")
    lr_d: float = Field(2e-4, gt=0, le=1, description="Adam learning rate of D (paper: 2e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁ for both networks (paper: 0.5)")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂ for both networks (paper: 0.999)")


_POINTS_TRAIN = {"steps": 3000, "batch_size": 256, "log_every": 100, "cpu_threads": 1}


class RaGAN(GANPlugin):
    spec = ModelSpec(
        name="ragan",  # the CLI name; equals the entry-point name in pyproject.toml
        title="Relativistic average GAN (RaSGAN / RaLSGAN / RaHingeGAN)",
        paper="Jolicoeur-Martineau 2018, The relativistic discriminator: a key element missing from standard GAN",
        arxiv="1807.00734",
        family=Family.relativistic,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
    )
    Config = RaGANConfig
    config: RaGANConfig

    # Presets ship with the plugin: the same tables as ganzoo's registry.toml. `ganzoo run ragan
    # --dataset grid` applies "ragan/grid"; `ganzoo check ragan` applies "ragan/check".
    presets = {
        "ragan/ring": {"dataset": "ring", "description": "RaSGAN, MLP 3×128, Adam 1e-3 β₁ 0.5 (gan/ring's setting)",
                       "train": _POINTS_TRAIN, "params": {"lr_g": 1e-3, "lr_d": 1e-3}},
        "ragan/grid": {"dataset": "grid", "description": "RaSGAN, MLP 3×128, Adam 1e-3 β₁ 0.5 (gan/grid's setting)",
                       "train": _POINTS_TRAIN, "params": {"lr_g": 1e-3, "lr_d": 1e-3}},
        "ragan/mnist": {"dataset": "mnist",
                        "description": "RaSGAN 32×32, DCGAN blocks base 32, Adam 2e-4 β₁ 0.5, batch 64, bf16, EMA",
                        "train": {"steps": 3000, "batch_size": 64, "resolution": 32, "precision": "bf16",
                                  "cpu_threads": 1, "ema_decay": 0.999, "log_every": 100, "sample_every": 500},
                        "params": {"base_channels": 32}},
        "ragan/check": {"dataset": "ring", "description": "Tiny networks for `ganzoo check ragan` (any dataset)",
                        "params": {"hidden": 16, "depth": 2, "base_channels": 8}},
    }

    @property
    def latent_dim(self) -> int:
        if self.config.latent_dim is not None:
            return self.config.latent_dim
        return 2 if self.data.kind == DataKind.points2d else 100

    def build(self):
        c, data = self.config, self.data
        if data.kind == DataKind.points2d:
            dim = data.shape[0]
            return {"G": PointsGenerator(self.latent_dim, c.hidden, c.depth, dim),
                    "D": PointsDiscriminator(dim, c.hidden, c.depth, data.pack)}  # pack: PacGAN works too
        return {"G": ImageGenerator(self.latent_dim, data.channels, data.resolution, c.base_channels),
                "D": ImageDiscriminator(data.channels * data.pack, data.resolution, c.base_channels)}

    def optimizers(self):
        c = self.config
        return {"G": OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2)),
                "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2))}

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.d_steps,
                      after_step=self.track_gap),
                Phase("generator", self.generator_step, updates=("G",))]

    def initial_state(self):
        # training state that is not a weight: on the device as ctx.state["gap_ema"], checkpointed with the run
        return {"gap_ema": 0.0}

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch)).detach()
        real_out, fake_out = nets.D(batch.real), nets.D(fake)
        loss = losses.DISCRIMINATOR[self.config.loss](real_out, fake_out)
        gap = (real_out.detach().float().mean() - fake_out.detach().float().mean())
        # read state in the step; never change it here (backward runs after the step returns)
        return PhaseResult(loss, logs={"gap": gap}, d_real=real_out, d_fake=fake_out,
                           diagnostics={"gap_ema": ctx.state["gap_ema"]})

    def track_gap(self, nets: Networks, result: PhaseResult, ctx: StepContext) -> None:
        """After an applied D step (never a skipped one): the state moves, identically on every process."""
        gap = ctx.mean_over_processes(torch.as_tensor(result.logs["gap"]))
        ctx.state["gap_ema"] = 0.99 * ctx.state["gap_ema"] + 0.01 * gap

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        # D is frozen in this phase (the harness turns its parameter gradients off); its outputs on
        # real data are part of G's relativistic loss, its gradient reaches G through E[C(x_f)].
        real_out, fake_out = nets.D(batch.real), nets.D(self.sample(nets, ctx, len(batch)))
        loss = losses.GENERATOR[self.config.loss](real_out, fake_out)
        return PhaseResult(loss, d_real=real_out, d_fake=fake_out)

    def sample(self, nets: Networks, ctx, n: int, labels: Tensor | None = None) -> Tensor:
        return nets.G(ctx.latent(n, self.latent_dim))  # noise from the harness: seeded, on the right device
