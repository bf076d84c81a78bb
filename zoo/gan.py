"""Generative Adversarial Networks — Goodfellow et al. 2014 (arXiv 1406.2661), on 2-D points.

Architecture: MLP generator z → x and MLP discriminator x → logit.
Loss: D minimises −E[log D(x)] − E[log(1 − D(G(z)))]; G either plays the original minimax
game, minimising E[log(1 − D(G(z)))], or (default, §3 of the paper) the non-saturating
variant, maximising E[log D(G(z))].
Update rule: k discriminator steps, then one generator step (k = 1 in the paper's experiments),
both networks with Adam (α = 1e-3, β₁ = 0.5).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelConfig, ModelSpec, Networks,
                                   OptimizerSpec, Phase, PhaseResult, StepContext, losses)
from ganzoo.zoo.mlp import PointsDiscriminator, PointsGenerator, normal_init


class GANConfig(ModelConfig):
    latent_dim: int = Field(2, ge=1, le=1024, description="Size of the noise vector z")
    hidden: int = Field(128, ge=4, le=4096, description="Width of the hidden layers of G and D")
    depth: int = Field(3, ge=1, le=16, description="Number of hidden layers of G and D")
    g_hidden: int | None = Field(None, ge=4, le=4096, description="Width of G's hidden layers (default: hidden)")
    g_depth: int | None = Field(None, ge=1, le=16, description="Number of G's hidden layers (default: depth)")
    d_hidden: int | None = Field(None, ge=4, le=4096, description="Width of D's hidden layers (default: hidden)")
    d_depth: int | None = Field(None, ge=1, le=16, description="Number of D's hidden layers (default: depth)")
    g_norm: Literal["none", "batch"] = Field("none", description=(
        "G's hidden layers: plain, or batch norm before the ReLU (the PacGAN authors' G)"))
    d_activation: Literal["leaky_relu", "relu", "maxout"] = Field("leaky_relu", description=(
        "D's hidden units: LeakyReLU(0.2), ReLU, or maxout of maxout_pieces (the PacGAN authors' D)"))
    maxout_pieces: int = Field(5, ge=2, le=16, description="Pieces per maxout unit (d_activation = maxout)")
    init_std: float | None = Field(None, gt=0, le=1, description=(
        "Initialise every linear layer's weights from N(0, init_std²) and its biases at 0 (PacGAN's code: "
        "0.02); default: PyTorch's initialisation"))
    generator_loss: Literal["non_saturating", "minimax"] = Field(
        "non_saturating", description="G objective: the paper's minimax game or its non-saturating variant (§3)")
    d_steps: int = Field(1, ge=1, le=100, description="Discriminator steps per generator step (k in Algorithm 1)")
    lr_g: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of G")
    lr_d: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of D (differs from lr_g for TTUR)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁ for both networks")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂ for both networks")


class GAN(GANPlugin):
    spec = ModelSpec(
        name="gan",
        title="Vanilla GAN (MLP)",
        paper="Goodfellow et al. 2014, Generative Adversarial Nets",
        arxiv="1406.2661",
        family=Family.minimax,
        data_kinds=[DataKind.points2d],
        default_dataset="ring",
        deviations=(
            "Trains on 2-D Gaussian mixtures (ring, grid; VEEGAN/PacGAN protocol), not on the paper's MNIST, TFD "
            "and CIFAR-10.",
            "G and D are MLPs of depth × hidden (3 × 128) units, ReLU in G and LeakyReLU(0.2) in D; the paper's G "
            "mixes rectifier and sigmoid units and its D uses maxout units trained with dropout.",
            "Both networks use Adam (1e-3, β₁ 0.5); the paper used gradient steps with momentum (Algorithm 1).",
            "The mixture presets sample from a generator EMA (decay 0.999), which the paper does not have.",
            "Options for other papers' protocols: separate widths and depths of G and D, batch norm in G (g_norm), "
            "maxout or ReLU units in D (d_activation), N(0, σ²) initialisation (init_std); the mixtures-pacgan "
            "presets use them for the PacGAN authors' networks (G 4 × 400 with batch norm and ReLU, D 3 × 200 "
            "maxout of 5 pieces, N(0, 0.02²) initialisation).",
        ),
    )
    Config = GANConfig
    config: GANConfig

    def build(self):
        c, dim = self.config, self.data.shape[0]
        nets = {"G": PointsGenerator(c.latent_dim, c.g_hidden or c.hidden, c.g_depth or c.depth, dim, norm=c.g_norm),
                "D": PointsDiscriminator(dim, c.d_hidden or c.hidden, c.d_depth or c.depth, self.data.pack,
                                         activation=c.d_activation, pieces=c.maxout_pieces)}
        return {name: normal_init(net, c.init_std) for name, net in nets.items()} if c.init_std else nets

    def optimizers(self):
        c = self.config
        return {"G": OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2)),
                "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2))}

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.d_steps),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = nets.G(ctx.latent(len(batch), self.config.latent_dim)).detach()
        real_logits, fake_logits = nets.D(batch.real), nets.D(fake)
        loss = losses.bce_discriminator(real_logits, fake_logits, ctx.real_target)
        return PhaseResult(loss, d_real=real_logits, d_fake=fake_logits)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake_logits = nets.D(nets.G(ctx.latent(len(batch), self.config.latent_dim)))
        if self.config.generator_loss == "minimax":
            loss = losses.bce_generator_minimax(fake_logits)
        else:
            loss = losses.bce_generator_nonsaturating(fake_logits)
        return PhaseResult(loss, d_fake=fake_logits)

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim))


__doc__ = GAN.spec.with_deviations(__doc__)

