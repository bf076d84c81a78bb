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
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.blocks import Conditioning
from ganzoo.zoo.image import (ARCHITECTURE_TRICKS, ConditionalImageGANConfig, adam, image_discriminator,
                              image_generator, labelled_classes)


class CGANConfig(ConditionalImageGANConfig):
    conditioning: Conditioning = Field("concat", description=(
        "How D sees the label: concat (embedding maps joined to the input, Mirza & Osindero) or "
        "projection (Miyato & Koyama 2018)"))
    label_channels: int = Field(10, ge=1, le=1024, description="concat: size of D's label embedding (input maps)")
    d_steps: int = Field(1, ge=1, le=100, description="D steps per G step")


class CGAN(GANPlugin):
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
            "y enters G as a learned embed_dim-d embedding concatenated to z and D as label_channels learned "
            "constant maps concatenated to the image, where the paper feeds a one-hot y to dense layers.",
            "G minimises the non-saturating loss −E[log D(G(z|y)|y)]; the paper states the minimax objective.",
            "The presets train on MNIST resized to 32×32 with base_channels 32, not on 28×28 digits.",
            "conditioning=projection is Miyato & Koyama's 2018 discriminator, not part of this paper.",
        ),
    )
    Config = CGANConfig
    config: CGANConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    def build(self):  # the DCGAN family of zoo.blocks, both networks class-conditional
        c = self.config
        return {"G": image_generator(self, c.latent_dim, conditional=True),
                "D": image_discriminator(self, num_classes=labelled_classes(self), conditioning=c.conditioning,
                                         label_channels=c.label_channels)}

    def optimizers(self):
        return adam(self.config)

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.d_steps),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        labels = ctx.random_labels(len(batch))  # fakes: uniformly drawn classes; real images keep theirs
        fake = self.sample(nets, ctx, len(batch), labels).detach()
        real_out, fake_out = nets.D(batch.real, batch.labels), nets.D(fake, labels)
        # −E[log D(x|y)] − E[log(1 − D(G(z|y)|y))]
        loss = losses.bce_discriminator(real_out, fake_out, ctx.real_target)
        return PhaseResult(loss, d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        labels = ctx.random_labels(len(batch))
        fake_out = nets.D(self.sample(nets, ctx, len(batch), labels), labels)
        return PhaseResult(losses.bce_generator_nonsaturating(fake_out), d_fake=fake_out)  # −E[log D(G(z|y)|y)]


    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim), labels)


__doc__ = CGAN.spec.with_deviations(__doc__)

