"""Conditional GANs — Mirza & Osindero 2014 (arXiv 1411.1784).

Architecture: G and D both see the class y. G: a learned embedding of y is concatenated to z
(the paper concatenates a one-hot y; an embedding is its learned linear map). D, two options:
``concat`` — a learned embedding of y is broadcast to constant maps concatenated to the image
(the paper's joint input of x and y); ``projection`` — Miyato & Koyama 2018 (arXiv 1802.05637): D(x, y) =
ψ(φ(x)) + ⟨embed(y), φ(x)⟩, the inner product of a class embedding with D's spatially pooled features.
Networks otherwise DCGAN (``zoo.blocks``).
Loss: the GAN objective conditioned on y, min_G max_D E[log D(x|y)] + E[log(1 − D(G(z|y)|y))],
with the non-saturating G loss. Real images keep their labels; fakes use uniformly drawn labels.
Update rule: alternating D and G steps, both with Adam (α = 2e-4, β₁ = 0.5), DCGAN's setting. The
paper instead trained its MNIST model with mini-batch SGD, a momentum that grows during training, an
exponentially decaying learning rate and dropout in G and D.

Deviations from the paper:
- G and D are the convolutional DCGAN nets; the paper's MNIST model is fully connected (G: ReLU
  layers for z and for y joined before a sigmoid output; D: maxout layers for x and for y joined).
- The update rule is Adam (2e-4, β₁ 0.5) without dropout, not the paper's SGD with momentum, a
  decaying learning rate and dropout.
- y enters G as a learned ``embed_dim``-d embedding concatenated to z and D as ``label_channels``
  learned constant maps concatenated to the image, where the paper feeds a one-hot y to dense layers.
- G minimises the non-saturating loss −E[log D(G(z|y)|y)]; the paper states the minimax objective.
- The presets train on MNIST resized to 32×32 with base_channels 32, not on 28×28 digits.
- ``conditioning="projection"`` is Miyato & Koyama's 2018 discriminator, not part of this paper.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import DataKind, Family, ModelSpec, Phase, losses
from ganzoo.zoo.blocks import Conditioning
from ganzoo.zoo.image import ConditionalImageGANConfig, ImageGAN


class CGANConfig(ConditionalImageGANConfig):
    conditioning: Conditioning = Field("concat", description=(
        "How D sees the label: concat (embedding maps joined to the input, Mirza & Osindero) or "
        "projection (Miyato & Koyama 2018)"))
    label_channels: int = Field(10, ge=1, le=1024, description="concat: size of D's label embedding (input maps)")
    d_steps: int = Field(1, ge=1, le=100, description="D steps per G step")


class CGAN(ImageGAN):
    spec = ModelSpec(
        name="cgan",
        title="Conditional GAN",
        paper="Mirza & Osindero 2014, Conditional Generative Adversarial Nets",
        arxiv="1411.1784",
        family=Family.minimax,
        data_kinds=[DataKind.images],
        conditional=True,
        default_dataset="mnist",
        deviations=(
            "G and D are the convolutional DCGAN nets; the paper's MNIST model is fully connected (ReLU layers in G, "
            "maxout layers in D, separate layers for the data and for y that are then joined).",
            "Update rule: Adam (2e-4, β₁ 0.5) without dropout; the paper trained with mini-batch SGD, momentum, an "
            "exponentially decaying learning rate and dropout in G and D.",
            "y enters G as a learned embedding concatenated to z and D as learned constant maps concatenated to the "
            "image, where the paper feeds a one-hot y to dense layers.",
            "G minimises the non-saturating loss −E[log D(G(z|y)|y)]; the paper states the minimax objective.",
            "The presets train on MNIST resized to 32×32 with base_channels 32, not on 28×28 digits.",
            "conditioning=projection is Miyato & Koyama's 2018 discriminator, not part of this paper.",
        ),
    )
    Config = CGANConfig
    config: CGANConfig

    def discriminator(self):
        c = self.config
        return super().discriminator(num_classes=self.num_classes, conditioning=c.conditioning,
                                     label_channels=c.label_channels)

    def discriminator_loss(self, real_out, fake_out, ctx):
        return losses.bce_discriminator(real_out, fake_out, ctx.real_target)

    def generator_loss(self, fake_out):
        return losses.bce_generator_nonsaturating(fake_out)

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.d_steps),
                Phase("generator", self.generator_step, updates=("G",))]
