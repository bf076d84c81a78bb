"""Improved Training of Wasserstein GANs — Gulrajani et al. 2017 (arXiv 1704.00028).

Architecture, chosen from the data: on 2-D points, MLP generator and critic (the paper's toy
experiments); on images, the DCGAN-style networks of ``zoo.blocks`` with no batch norm in the
critic (§4: the penalty is per sample, and batch norm couples the samples of a batch) — layer
norm (the default) or none.
Loss: the critic minimises E[D(G(z))] − E[D(x)] + λ·E[(‖∇D(x̂)‖₂ − 1)²] on random interpolates
x̂ between real and generated samples (Algorithm 1, λ = 10); G minimises −E[D(G(z))].
Update rule: n_critic = 5 critic steps per generator step, Adam (α = 1e-4, β₁ = 0, β₂ = 0.9).

Deviations from the paper:
- Points: G and critic are MLPs of 3 hidden layers of 128 units (``hidden``, ``depth``) with a
  LeakyReLU(0.2) critic, and λ = 10; the authors' toy code (gan_toy.py) uses 3 ReLU layers of 512
  units in both and λ = 0.1 (``hidden=512 critic_activation=relu gp_weight=0.1`` reproduce it).
- Points: the ring and grid presets use Adam 1e-3 (β₁ 0.5, β₂ 0.9), 3,000 iterations and a generator
  EMA; the toy code uses Adam 1e-4 (0.5, 0.9), batch 256 and 100,000 iterations, and its mixtures are
  scaled differently from the VEEGAN/PacGAN ring and grid used here.
- Images: G keeps batch norm and both nets use 4×4 kernels; the authors' MNIST code has no
  normalisation in G or the critic and 5×5 kernels. Our critic uses layer norm by default (the
  paper's recommendation; ``critic_norm="none"`` matches that code).
- Images: the paper's CIFAR-10 Inception score comes from a ResNet, which the zoo does not have.
- Images: the MNIST presets run at 32×32 with base_channels 32 and batch 64 (the authors' MNIST code:
  28×28, width 64, batch 50).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganzoo.harness.plugin import Batch, DataKind, Family, ModelSpec, Networks, Phase, PhaseResult, StepContext, losses
from ganzoo.zoo.image import AdamImageGANConfig, ImageGAN
from ganzoo.zoo.mlp import PointsDiscriminator, PointsGenerator


class WGANGPConfig(AdamImageGANConfig):
    latent_dim: int | None = Field(None, ge=1, le=4096, description=(
        "Size of the noise vector z (default: 2 for points, 128 for images)"))
    hidden: int = Field(128, ge=4, le=4096, description="Points: width of the hidden layers of G and the critic")
    depth: int = Field(3, ge=1, le=16, description="Points: number of hidden layers of G and the critic")
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


class WGANGP(ImageGAN):
    spec = ModelSpec(
        name="wgan-gp",
        title="WGAN with gradient penalty",
        paper="Gulrajani et al. 2017, Improved Training of Wasserstein GANs",
        arxiv="1704.00028",
        family=Family.wasserstein,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "Points: MLPs of 3 × 128 units with a LeakyReLU(0.2) critic and λ = 10; the authors' gan_toy.py uses 3 "
            "ReLU layers of 512 units in G and critic and λ = 0.1 (hidden=512, critic_activation=relu, "
            "gp_weight=0.1 reproduce it).",
            "Points: the ring/grid presets use Adam 1e-3 (β₁ 0.5, β₂ 0.9), 3,000 iterations and a generator EMA; "
            "gan_toy.py uses Adam 1e-4 (0.5, 0.9), batch 256, 100,000 iterations and differently scaled mixtures.",
            "Images: G keeps batch norm and both nets use 4×4 kernels; the authors' MNIST code has no normalisation "
            "in G or critic and 5×5 kernels (our critic defaults to layer norm, the paper's recommendation).",
            "Images: the paper's CIFAR-10 Inception score comes from a ResNet, which the zoo does not have.",
            "Images: the MNIST presets run at 32×32 with base_channels 32 and batch 64; the authors' MNIST code uses "
            "28×28, width 64 and batch 50.",
        ),
    )
    Config = WGANGPConfig
    config: WGANGPConfig

    @property
    def latent_dim(self) -> int:
        if self.config.latent_dim is not None:
            return self.config.latent_dim
        return 2 if self.data.kind == DataKind.points2d else 128

    def generator(self):
        if self.data.kind == DataKind.points2d:
            return PointsGenerator(self.latent_dim, self.config.hidden, self.config.depth, self.data.shape[0])
        return super().generator()

    def discriminator(self):
        if self.data.kind == DataKind.points2d:
            if self.tricks.minibatch_std or self.tricks.minibatch_discrimination:
                raise ValueError("minibatch_std/minibatch_discrimination are implemented for the image critic only")
            return PointsDiscriminator(self.data.shape[0], self.config.hidden, self.config.depth, self.data.pack,
                                       activation=self.config.critic_activation)
        return super().discriminator(norm=self.config.critic_norm)

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

    def generator_loss(self, fake_out):
        return losses.wasserstein_generator(fake_out)
