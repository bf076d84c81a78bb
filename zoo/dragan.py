"""On Convergence and Stability of GANs (DRAGAN) — Kodali, Abernethy, Hays & Kira 2017 (arXiv 1705.07215).

Architecture, chosen from the data: on 2-D points, MLP generator and discriminator; on images,
the DCGAN networks of ``zoo.blocks`` with a discriminator free of batch norm (the penalty is per
sample) — layer norm (default) or none.
Loss: the GAN cross-entropy (non-saturating G) plus, in D's loss, a gradient penalty *around the
real data*: λ·E[(‖∇D(x̂)‖₂ − k)²] with k = 1 and λ = 10 (§5, eq. 9), so D stays smooth where mode
collapse starts (the "sharp gradients around real points" of §4). The points x̂ follow the
authors' released code: x_p = x + c·std(x)·u with u ~ U[0,1] per coordinate and c = 0.5, and
x̂ = x + α·(x_p − x) with α ~ U[0,1] per sample. The penalty comes from the harness
(``ctx.gradient_penalty_at``), correct under fp16 loss scaling.
Update rule: one D step then one G step, Adam (α = 1e-4, β₁ = 0.5, β₂ = 0.9 as in the authors' code).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, adam
from ganzoo.zoo.points_or_images import (PointsOrImagesConfig, latent_size, points_or_image_discriminator,
                                         points_or_image_generator)


class DRAGANConfig(PointsOrImagesConfig):
    d_norm: Literal["layer", "none"] = Field("layer", description="Images: normalisation in D (never batch norm)")
    gp_weight: float = Field(10.0, ge=0, description="λ, the penalty weight (paper: 10)")
    gp_target: float = Field(1.0, ge=0, description="k, the target gradient norm (paper: 1)")
    perturbation: float = Field(0.5, ge=0, description="c: x_p = x + c·std(x)·U[0,1] (authors' code: 0.5)")
    lr_g: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of G")
    lr_d: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of D")
    beta2: float = Field(0.9, ge=0, lt=1, description="Adam β₂ (authors' code: 0.9)")


def uniform(ctx: StepContext, like: torch.Tensor) -> torch.Tensor:
    """U[0,1] noise shaped like ``like`` from the context's (seeded, rank-sharded) normal stream: Φ(z)."""
    z = ctx.latent(like.shape[0], math.prod(like.shape[1:])).view_as(like)
    return 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))


def perturbed_points(real: torch.Tensor, u: torch.Tensor, alpha: torch.Tensor, c: float) -> torch.Tensor:
    """x̂ = x + α·(x_p − x), x_p = x + c·std(x)·u (the authors' DRAGAN code)."""
    real = real.detach()
    perturbed = real + c * real.std() * u
    return real + alpha * (perturbed - real)


class DRAGAN(GANPlugin):
    spec = ModelSpec(
        name="dragan",
        title="DRAGAN",
        paper="Kodali, Abernethy, Hays & Kira 2017, On Convergence and Stability of GANs",
        arxiv="1705.07215",
        family=Family.minimax,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "The perturbation follows the authors' code (x_p = x + 0.5·std(x)·U[0,1], penalty at a random point "
            "between x and x_p), not the paper's δ ~ N(0, cI).",
            "Points: MLPs of 3 × 128 units (ReLU G, LeakyReLU(0.2) D); the paper's toy experiments (Fig. 3 / §6.1) "
            "use small MLPs whose exact widths are not reproduced.",
            "Points: the ring/grid presets use λ = 1 (the paper's λ = 10 keeps ‖∇D‖ ≈ 1 over the whole perturbation "
            "radius, 35 times a ring mode's std, and D could not separate the modes), Adam 1e-3 (β₁ 0.5, β₂ 0.9), "
            "batch 256 and a generator EMA.",
            "Images: DCGAN nets with layer norm in D (the authors' code has no normalisation in D).",
            "Under data parallelism std(x) is taken over each process's share of the batch.",
        ),
    )
    Config = DRAGANConfig
    composes_with = {"r1_gamma": "DRAGAN penalises the gradient at perturbed real data; R1 at the data itself "
                                 "adds to it"}
    config: DRAGANConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    @property
    def latent_dim(self) -> int:  # 2 on points, 100 on images unless configured
        return latent_size(self.data, self.config.latent_dim)

    def build(self):  # MLPs on points, the DCGAN family on images (zoo.points_or_images)
        return {"G": points_or_image_generator(self, self.latent_dim),
                "D": points_or_image_discriminator(self, norm=self.config.d_norm)}  # per-sample penalty: no batch norm

    def optimizers(self):
        return adam(self.config)

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",)),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        c = self.config
        fake = self.sample(nets, ctx, len(batch)).detach()
        real_logits, fake_logits = nets.D(batch.real), nets.D(fake)
        gan = losses.bce_discriminator(real_logits, fake_logits, ctx.real_target)
        alpha = uniform(ctx, batch.real.new_empty(len(batch), *([1] * (batch.real.dim() - 1))))  # per sample
        points = perturbed_points(batch.real, uniform(ctx, batch.real), alpha, c.perturbation)
        penalty = ctx.gradient_penalty_at(nets.D, points, target=c.gp_target)
        return PhaseResult(gan + c.gp_weight * penalty, logs={"gradient_penalty": penalty},
                           d_real=real_logits, d_fake=fake_logits)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake_logits = nets.D(self.sample(nets, ctx, len(batch)))
        return PhaseResult(losses.bce_generator_nonsaturating(fake_logits), d_fake=fake_logits)  # −E[log D(G(z))]

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.latent_dim))


__doc__ = DRAGAN.spec.with_deviations(__doc__)

