"""Wasserstein GAN — Arjovsky, Chintala & Bottou 2017 (arXiv 1701.07875).

Architecture: the DCGAN networks (``zoo.blocks``); the critic outputs an unbounded score.
Loss: the critic maximises E[D(x)] − E[D(G(z))], an estimate of the Wasserstein-1 distance
when D is K-Lipschitz; G minimises −E[D(G(z))].
Update rule (Algorithm 1): n_critic = 5 critic steps per G step, RMSprop (α = 5e-5), batch 64;
after every critic update its weights are clipped to [−c, c], c = 0.01, which keeps the critic
in a compact set of Lipschitz functions. ``critic_schedule`` picks how many critic steps an
iteration runs: ``"reference"`` (the default) is the authors' released code
(martinarjovsky/WassersteinGAN, main.py), which trains the critic 100 times per G step while
gen_iterations < 25 and whenever gen_iterations % 500 == 0 (gen_iterations = G steps so far), and
n_critic times otherwise; ``"constant"`` is Algorithm 1 as printed, n_critic every time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, OptimizerSpec, Phase,
                                   PhaseResult, StepContext, losses)
from ganzoo.zoo.blocks import Norm
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, ImageGANConfig, image_discriminator, image_generator

#: the authors' released code (main.py): Diters = 100 if gen_iterations < 25 or gen_iterations % 500 == 0
REFERENCE_CRITIC_STEPS, REFERENCE_WARMUP, REFERENCE_EVERY = 100, 25, 500


class WGANConfig(ImageGANConfig):
    lr_g: float = Field(5e-5, gt=0, le=1, description="RMSprop learning rate of G (paper: 5e-5)")
    lr_d: float = Field(5e-5, gt=0, le=1, description="RMSprop learning rate of the critic (paper: 5e-5)")
    clip: float = Field(0.01, gt=0, description="Critic weights are clipped to [−clip, clip] (paper: 0.01)")
    n_critic: int = Field(5, ge=1, le=100, description="Critic steps per generator step (paper: 5)")
    critic_norm: Norm = Field("batch", description=(
        "Normalisation in the critic: batch (the paper's DCGAN critic), layer or none"))
    critic_schedule: Literal["constant", "reference"] = Field("reference", description=(
        "Critic steps per G step: constant (n_critic every iteration, Algorithm 1) or reference (the authors' "
        "code: 100 while fewer than 25 G steps are done and every 500th G step, n_critic otherwise)"))


class WGAN(GANPlugin):
    spec = ModelSpec(
        name="wgan",
        title="WGAN (weight clipping)",
        paper="Arjovsky, Chintala & Bottou 2017, Wasserstein GAN",
        arxiv="1701.07875",
        family=Family.wasserstein,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
        deviations=(
            "The paper's images are LSUN bedrooms at 64×64 (3 channels); the presets train on MNIST resized to "
            "32×32 (one channel) with base_channels 32, so the nets have three stages instead of four.",
            "The default critic schedule is the reference code's (100 critic steps for the first 25 G steps and "
            "every 500th), which Algorithm 1 does not have; critic_schedule=constant runs n_critic every iteration.",
            "Weights are clipped after each critic update as in Algorithm 1; the reference code clamps before each "
            "critic update, so its G step sees a critic updated after its last clamp.",
            "The paper's robustness experiments also train an MLP generator and a DCGAN generator without batch "
            "norm; only the DCGAN generator with batch norm exists here.",
        ),
    )
    Config = WGANConfig
    config: WGANConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    def build(self):  # the DCGAN family of zoo.blocks; the critic's normalisation is critic_norm
        return {"G": image_generator(self, self.config.latent_dim),
                "D": image_discriminator(self, norm=self.config.critic_norm)}

    def optimizers(self):
        c = self.config
        return {"G": OptimizerSpec(kind="rmsprop", lr=c.lr_g), "D": OptimizerSpec(kind="rmsprop", lr=c.lr_d)}

    def phases(self):
        repeats = self.critic_steps if self.config.critic_schedule == "reference" else self.config.n_critic
        return [Phase("critic", self.critic_step, updates=("D",), repeats=repeats, after_update=self.clip_critic),
                Phase("generator", self.generator_step, updates=("G",))]

    def critic_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch)).detach()
        real_scores, fake_scores = nets.D(batch.real), nets.D(fake)
        loss = losses.wasserstein_critic(real_scores, fake_scores)  # E[D(G(z))] − E[D(x)]
        return PhaseResult(loss, d_real=real_scores, d_fake=fake_scores)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake_scores = nets.D(self.sample(nets, ctx, len(batch)))
        return PhaseResult(losses.wasserstein_generator(fake_scores), d_fake=fake_scores)  # −E[D(G(z))]

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim))

    def clip_critic(self, nets: Networks) -> None:
        for p in nets.D.parameters():
            p.clamp_(-self.config.clip, self.config.clip)

    def critic_steps(self, step: int) -> int:
        """Critic steps in the iteration after ``step`` G steps (the reference code's ``Diters``)."""
        if self.config.critic_schedule == "reference" and (step < REFERENCE_WARMUP or step % REFERENCE_EVERY == 0):
            return REFERENCE_CRITIC_STEPS
        return self.config.n_critic


__doc__ = WGAN.spec.with_deviations(__doc__)

