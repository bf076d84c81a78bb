"""Least Squares GANs — Mao et al. 2017 (arXiv 1611.04076).

Architecture: the DCGAN networks (``zoo.blocks``); D's output is a linear score, no sigmoid.
Loss (eq. 9 with the 0-1-1 coding a = 0, b = c = 1): D minimises ½E[(D(x) − 1)²] + ½E[D(G(z))²];
G minimises ½E[(D(G(z)) − 1)²]. Unlike the sigmoid cross-entropy, the least-squares loss keeps
penalising fakes that D classifies correctly but that lie far from the data, so G's gradients
do not vanish.
Update rule: alternating D and G steps with Adam (α = 2e-4, β₁ = 0.5), as for DCGAN, with DCGAN's config
(``d_steps``; ``reuse_fakes``: the G step scores the batch the D step generated).
"""

from __future__ import annotations

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.dcgan import DCGANConfig
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, adam, image_discriminator, image_generator


class LSGAN(GANPlugin):
    spec = ModelSpec(
        name="lsgan",
        title="LSGAN",
        paper="Mao et al. 2017, Least Squares Generative Adversarial Networks",
        arxiv="1611.04076",
        family=Family.least_squares,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
        deviations=(
            "G and D are the shared DCGAN family, not the paper's own networks for LSUN scenes and for handwritten "
            "Chinese characters.",
            "Only the 0-1-1 coding of eq. 9 is implemented, not eq. 8's a = −1, b = 1, c = 0.",
            "The Adam setting is DCGAN's (2e-4, β₁ 0.5), kept for comparability, not taken from the paper's "
            "experiments.",
            "The presets train on MNIST resized to 32×32 with base_channels 32.",
        ),
    )
    Config = DCGANConfig
    config: DCGANConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    def build(self):  # the DCGAN family of zoo.blocks, sized from the data
        return {"G": image_generator(self, self.config.latent_dim), "D": image_discriminator(self)}

    def optimizers(self):
        return adam(self.config)

    def phases(self):  # reuse_fakes: the D step keeps G's graph for the G step of the same iteration
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.d_steps,
                      keeps_graph=("G",) if self.config.reuse_fakes else ()),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch))
        if self.config.reuse_fakes:
            ctx.stash("fake", fake)
        real_out, fake_out = nets.D(batch.real), nets.D(fake.detach())
        # ½E[(D(x) − 1)²] + ½E[D(G(z))²]
        loss = losses.least_squares_discriminator(real_out, fake_out, ctx.real_target)
        return PhaseResult(loss, d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = ctx.take("fake") if self.config.reuse_fakes else None
        fake_out = nets.D(fake if fake is not None else self.sample(nets, ctx, len(batch)))
        return PhaseResult(losses.least_squares_generator(fake_out), d_fake=fake_out)  # ½E[(D(G(z)) − 1)²]

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim))


__doc__ = LSGAN.spec.with_deviations(__doc__)
