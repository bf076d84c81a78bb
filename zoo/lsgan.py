"""Least Squares GANs — Mao et al. 2017 (arXiv 1611.04076).

Architecture: the DCGAN networks (``zoo.blocks``); D's output is a linear score, no sigmoid.
Loss (eq. 9 with the 0-1-1 coding a = 0, b = c = 1): D minimises ½E[(D(x) − 1)²] + ½E[D(G(z))²];
G minimises ½E[(D(G(z)) − 1)²]. Unlike the sigmoid cross-entropy, the least-squares loss keeps
penalising fakes that D classifies correctly but that lie far from the data, so G's gradients
do not vanish.
Update rule: alternating D and G steps with Adam (α = 2e-4, β₁ = 0.5), as for DCGAN.

Deviations from the paper:
- G and D are the shared DCGAN family, not the paper's own networks for LSUN scenes and for its
  many-class handwritten Chinese characters.
- Only the 0-1-1 coding of eq. 9 is implemented, not eq. 8's a = −1, b = 1, c = 0.
- The Adam setting is DCGAN's (2e-4, β₁ 0.5), kept for comparability, not taken from the paper's
  experiments.
- The presets train on MNIST resized to 32×32 with base_channels 32.
"""

from __future__ import annotations

from ganzoo.harness.plugin import DataKind, Family, ModelSpec, losses
from ganzoo.zoo.dcgan import DCGAN


class LSGAN(DCGAN):
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

    def discriminator_loss(self, real_out, fake_out, ctx):
        return losses.least_squares_discriminator(real_out, fake_out, ctx.real_target)

    def generator_loss(self, fake_out):
        return losses.least_squares_generator(fake_out)
