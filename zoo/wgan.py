"""Wasserstein GAN — Arjovsky, Chintala & Bottou 2017 (arXiv 1701.07875).

Architecture: the DCGAN networks (``zoo.blocks``); the critic outputs an unbounded score.
Loss: the critic maximises E[D(x)] − E[D(G(z))], an estimate of the Wasserstein-1 distance
when D is K-Lipschitz; G minimises −E[D(G(z))].
Update rule (Algorithm 1): n_critic = 5 critic steps per G step, RMSprop (α = 5e-5); after
every critic update its weights are clipped to [−c, c], c = 0.01, which keeps the critic in a
compact set of Lipschitz functions.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import DataKind, Family, ModelSpec, Networks, OptimizerSpec, Phase, losses
from ganzoo.zoo.blocks import Norm
from ganzoo.zoo.image import ImageGAN, ImageGANConfig


class WGANConfig(ImageGANConfig):
    lr_g: float = Field(5e-5, gt=0, le=1, description="RMSprop learning rate of G (paper: 5e-5)")
    lr_d: float = Field(5e-5, gt=0, le=1, description="RMSprop learning rate of the critic (paper: 5e-5)")
    clip: float = Field(0.01, gt=0, description="Critic weights are clipped to [−clip, clip] (paper: 0.01)")
    n_critic: int = Field(5, ge=1, le=100, description="Critic steps per generator step (paper: 5)")
    critic_norm: Norm = Field("batch", description=(
        "Normalisation in the critic: batch (the paper's DCGAN critic), layer or none"))


class WGAN(ImageGAN):
    spec = ModelSpec(
        name="wgan",
        title="WGAN (weight clipping)",
        paper="Arjovsky, Chintala & Bottou 2017, Wasserstein GAN",
        arxiv="1701.07875",
        family=Family.wasserstein,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
    )
    Config = WGANConfig
    config: WGANConfig

    def discriminator(self):
        return super().discriminator(norm=self.config.critic_norm)

    def optimizers(self):
        c = self.config
        return {"G": OptimizerSpec(kind="rmsprop", lr=c.lr_g), "D": OptimizerSpec(kind="rmsprop", lr=c.lr_d)}

    def discriminator_loss(self, real_out, fake_out, ctx):
        return losses.wasserstein_critic(real_out, fake_out)

    def generator_loss(self, fake_out):
        return losses.wasserstein_generator(fake_out)

    def clip_critic(self, nets: Networks) -> None:
        for p in nets.D.parameters():
            p.clamp_(-self.config.clip, self.config.clip)

    def phases(self):
        return [Phase("critic", self.discriminator_step, updates=("D",), repeats=self.config.n_critic,
                      after_update=self.clip_critic),
                Phase("generator", self.generator_step, updates=("G",))]
