"""Improved Training of Wasserstein GANs — Gulrajani et al. 2017 (arXiv 1704.00028).

Architecture, chosen from the data: on 2-D points, MLP generator and critic (the paper's toy
experiments); on images, the DCGAN-style networks of ``zoo.blocks`` with no batch norm in the
critic (§4: the penalty is per sample, and batch norm couples the samples of a batch) — layer
norm (the default) or none.
Loss: the critic minimises E[D(G(z))] − E[D(x)] + λ·E[(‖∇D(x̂)‖₂ − 1)²] on random interpolates
x̂ between real and generated samples (Algorithm 1, λ = 10); G minimises −E[D(G(z))].
Update rule: n_critic = 5 critic steps per generator step, Adam (α = 1e-4, β₁ = 0, β₂ = 0.9).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, adam
from ganzoo.zoo.points_or_images import (PointsOrImagesConfig, latent_size, points_or_image_discriminator,
                                         points_or_image_generator)


class WGANGPConfig(PointsOrImagesConfig):
    critic_activation: Literal["leaky_relu", "relu"] = Field("leaky_relu", description=(
        "Points: the critic's activation (the authors' gan_toy.py: relu, in 512-wide layers)"))
    critic_norm: Literal["layer", "none"] = Field("layer", description=(
        "Images: normalisation in the critic, layer norm or none (never batch norm, §4)"))
    gp_weight: float = Field(10.0, ge=0, description="λ, the gradient-penalty weight (paper: 10)")
    n_critic: int = Field(5, ge=1, le=100, description="Critic steps per generator step (paper: 5)")
    lr_g: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of G (paper: 1e-4)")
    lr_d: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of the critic (paper: 1e-4)")
    beta1: float = Field(0.0, ge=0, lt=1, description="Adam β₁ (paper: 0, or 0.5)")
    beta2: float = Field(0.9, ge=0, lt=1, description="Adam β₂ (paper: 0.9)")


class WGANGP(GANPlugin):
    spec = ModelSpec(
        name="wgan-gp",
        title="WGAN with gradient penalty",
        paper="Gulrajani et al. 2017, Improved Training of Wasserstein GANs",
        arxiv="1704.00028",
        family=Family.wasserstein,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "Points: MLPs of 3 × 128 units with a LeakyReLU(0.2) critic; the authors' gan_toy.py uses 3 ReLU layers "
            "of 512 units in G and critic (hidden=512, critic_activation=relu reproduce it, ~5× slower on a CPU).",
            "Points: the ring/grid presets follow gan_toy.py (λ 0.1, Adam 1e-4 β (0.5, 0.9), n_critic 5, batch 256) "
            "but train 6,000 iterations instead of 100,000, keep a generator EMA beside the scored trained G, and use "
            "the VEEGAN/PacGAN mixtures (gan_toy.py's are scaled differently). Without a preset λ = 10 applies.",
            "Images: G keeps batch norm and both nets use 4×4 kernels; the authors' MNIST code has no normalisation "
            "in G or critic and 5×5 kernels (our critic defaults to layer norm, the paper's recommendation; "
            "critic_norm=none matches that code).",
            "Images: the paper's CIFAR-10 Inception score comes from a ResNet, which the zoo does not have.",
            "Images: the MNIST presets run at 32×32 with base_channels 32 and batch 64; the authors' MNIST code uses "
            "28×28, width 64 and batch 50.",
        ),
    )
    Config = WGANGPConfig
    #: the harness's R1 (train.tricks.r1_gamma) penalises D's gradient at real data, WGAN-GP's penalty at
    #: interpolates: different points, so a run that asks for both gets both
    composes_with = {"r1_gamma": "WGAN-GP penalises the gradient at interpolates; R1 at real data adds to it"}
    config: WGANGPConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    @property
    def latent_dim(self) -> int:  # 2 on points, 128 on images unless configured
        return latent_size(self.data, self.config.latent_dim, image_default=128)

    def build(self):  # MLPs on points, the DCGAN family on images (zoo.points_or_images)
        c = self.config
        critic_activation = "tanh" if c.mlp_activation == "tanh" else c.critic_activation
        return {"G": points_or_image_generator(self, self.latent_dim),
                "D": points_or_image_discriminator(self, activation=critic_activation,
                                                   norm=c.critic_norm)}  # never batch norm (§4)

    def optimizers(self):
        return adam(self.config)  # paper: α 1e-4, β (0, 0.9)

    def phases(self):
        return [Phase("critic", self.critic_step, updates=("D",), repeats=self.config.n_critic),
                Phase("generator", self.generator_step, updates=("G",))]

    def critic_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch)).detach()
        real_scores, fake_scores = nets.D(batch.real), nets.D(fake)
        wasserstein = losses.wasserstein_critic(real_scores, fake_scores)
        penalty = ctx.gradient_penalty(nets.D, batch.real, fake)
        return PhaseResult(wasserstein + self.config.gp_weight * penalty,
                           logs={"wasserstein": -wasserstein, "gradient_penalty": penalty},
                           d_real=real_scores, d_fake=fake_scores)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake_scores = nets.D(self.sample(nets, ctx, len(batch)))
        return PhaseResult(losses.wasserstein_generator(fake_scores), d_fake=fake_scores)  # −E[D(G(z))]

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.latent_dim))


__doc__ = WGANGP.spec.with_deviations(__doc__)

