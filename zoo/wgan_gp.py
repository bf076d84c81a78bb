"""Improved Training of Wasserstein GANs — Gulrajani et al. 2017 (arXiv 1704.00028), on 2-D points.

Architecture: MLP generator and MLP critic (no normalisation in the critic: the penalty is
per sample). Loss: the critic minimises E[D(G(z))] − E[D(x)] + λ·E[(‖∇D(x̂)‖₂ − 1)²] on random
interpolates x̂ (Algorithm 1, λ = 10); G minimises −E[D(G(z))]. Update rule: n_critic = 5
critic steps per generator step, Adam (α = 1e-4, β₁ = 0, β₂ = 0.9) in the paper.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness import losses
from ganzoo.harness.plugin import Batch, GANPlugin, Networks, OptimizerSpec, Phase, PhaseResult, StepContext
from ganzoo.harness.spec import DataKind, Family, ModelConfig, ModelSpec
from ganzoo.zoo.mlp import PointsDiscriminator, PointsGenerator


class WGANGPConfig(ModelConfig):
    latent_dim: int = Field(2, ge=1, le=1024, description="Size of the noise vector z")
    hidden: int = Field(128, ge=4, le=4096, description="Width of the hidden layers of G and the critic")
    depth: int = Field(3, ge=1, le=16, description="Number of hidden layers of G and the critic")
    gp_weight: float = Field(10.0, ge=0, description="λ, the gradient-penalty weight (paper: 10)")
    n_critic: int = Field(5, ge=1, le=100, description="Critic steps per generator step (paper: 5)")
    lr_g: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of G (paper: 1e-4)")
    lr_d: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of the critic (paper: 1e-4)")
    beta1: float = Field(0.0, ge=0, lt=1, description="Adam β₁ (paper: 0, or 0.5)")
    beta2: float = Field(0.9, ge=0, lt=1, description="Adam β₂ (paper: 0.9)")


class WGANGP(GANPlugin):
    spec = ModelSpec(
        name="wgan-gp",
        title="WGAN with gradient penalty (MLP)",
        paper="Gulrajani et al. 2017, Improved Training of Wasserstein GANs",
        arxiv="1704.00028",
        family=Family.wasserstein,
        data_kinds=[DataKind.points2d],
        default_dataset="ring",
    )
    Config = WGANGPConfig
    config: WGANGPConfig

    def build(self):
        c, dim = self.config, self.data.shape[0]
        return {"G": PointsGenerator(c.latent_dim, c.hidden, c.depth, dim),
                "D": PointsDiscriminator(dim, c.hidden, c.depth, self.data.pack)}

    def optimizers(self):
        c = self.config
        return {"G": OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2)),
                "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2))}

    def phases(self):
        return [Phase("critic", self.critic_step, updates=("D",), repeats=self.config.n_critic),
                Phase("generator", self.generator_step, updates=("G",))]

    def critic_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = nets.G(ctx.latent(len(batch), self.config.latent_dim)).detach()
        real_scores, fake_scores = nets.D(batch.real), nets.D(fake)
        wasserstein = losses.wasserstein_critic(real_scores, fake_scores)
        penalty = ctx.gradient_penalty(nets.D, batch.real, fake)
        return PhaseResult(wasserstein + self.config.gp_weight * penalty,
                           logs={"wasserstein": -wasserstein, "gradient_penalty": penalty},
                           d_real=real_scores, d_fake=fake_scores)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake_scores = nets.D(nets.G(ctx.latent(len(batch), self.config.latent_dim)))
        return PhaseResult(losses.wasserstein_generator(fake_scores), d_fake=fake_scores)

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim))
