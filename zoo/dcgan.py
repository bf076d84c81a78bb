"""Deep Convolutional GANs — Radford, Metz & Chintala 2015 (arXiv 1511.06434).

Architecture (§3): all-convolutional G and D (``zoo.blocks``): strided convolutions in D,
transposed convolutions in G, batch norm in both except D's input and G's output layer,
ReLU in G with a tanh output, LeakyReLU(0.2) in D, weights from N(0, 0.02); depth and widths
follow the image resolution.
Loss: the GAN objective of Goodfellow et al. 2014 with the non-saturating generator loss.
Update rule (§4): one D step then one G step, both with Adam (α = 2e-4, β₁ = 0.5), batch 128. The G
step scores the same generated batch the D step used (the authors' dcgan.torch and PyTorch's DCGAN
example do; ``reuse_fakes``), so G runs forward once per iteration.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, AdamImageGANConfig, adam, image_discriminator, image_generator


class DCGANConfig(AdamImageGANConfig):
    d_steps: int = Field(1, ge=1, le=100, description="D steps per G step (paper: 1)")
    reuse_fakes: bool = Field(True, description=(
        "The G step reuses the fakes the D step generated (one G forward per iteration), as the reference "
        "implementations do (dcgan.torch, PyTorch's DCGAN example); false draws fresh fakes for G"))
    d_base_channels: int | None = Field(None, ge=1, le=1024, description=(
        "Width of D's first layer (default base_channels): the Unrolled GAN / PacGAN Stacked MNIST experiments "
        "give D ¼ or ½ of G's size to make DCGAN collapse"))


class DCGAN(GANPlugin):
    spec = ModelSpec(
        name="dcgan",
        title="DCGAN",
        paper="Radford, Metz & Chintala 2015, Unsupervised Representation Learning with Deep Convolutional GANs",
        arxiv="1511.06434",
        family=Family.minimax,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
        deviations=(
            "z is drawn from N(0, I); the paper draws its 100-d z from a uniform distribution (Figure 1).",
            "Widths double from base_channels next to the image up to 8×: with base 64 at 64×64, G starts from 512 "
            "channels at 4×4, where Figure 1 has 1024.",
            "The paper trains at 64×64 (LSUN, ImageNet-1k, faces); the MNIST presets run at 32×32 (three stages) "
            "with base_channels 32, batch 64 and bf16 autocast.",
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
        loss = losses.bce_discriminator(real_out, fake_out, ctx.real_target)  # −E[log D(x)] − E[log(1 − D(G(z)))]
        return PhaseResult(loss, d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = ctx.take("fake") if self.config.reuse_fakes else None
        fake_out = nets.D(fake if fake is not None else self.sample(nets, ctx, len(batch)))
        return PhaseResult(losses.bce_generator_nonsaturating(fake_out), d_fake=fake_out)  # −E[log D(G(z))]


    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim))


__doc__ = DCGAN.spec.with_deviations(__doc__)
