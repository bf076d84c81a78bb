"""Spectral Normalization for GANs — Miyato et al. 2018 (arXiv 1802.05957).

Architecture: every weight of D is divided by its spectral norm σ(W), estimated by power
iteration (§2.1), which bounds each layer's Lipschitz constant by 1; no batch norm in D,
LeakyReLU(0.1). D is chosen by ``discriminator``: ``"standard-cnn"`` is the paper's "standard CNN"
of Table 3 (b) (``zoo.blocks.StandardCNNDiscriminator``: 3×3 stride-1 and 4×4 stride-2 convolutions
with 64, 64, 128, 128, 256, 256, 512 channels, then a dense score), used by the presets;
``"dcgan"`` (the default) is the shared DCGAN-style D of ``zoo.blocks`` (three 4×4 stride-2
convolutions at 32×32) with spectral norm. Both scale with ``base_channels`` (the paper's 64).
G is the shared DCGAN-style generator with batch norm.
Loss: the hinge loss — D minimises E[relu(1 − D(x))] + E[relu(1 + D(G(z)))]; G minimises −E[D(G(z))].
Update rule: n_dis = 5 D steps per G step, Adam (α = 2e-4, β₁ = 0, β₂ = 0.9).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.blocks import StandardCNNDiscriminator
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, AdamImageGANConfig, adam, image_discriminator, image_generator


class SNGANConfig(AdamImageGANConfig):
    latent_dim: int = Field(128, ge=1, le=4096, description="Size of the noise vector z (paper: 128)")
    n_dis: int = Field(5, ge=1, le=100, description="D steps per G step (paper: 5)")
    beta1: float = Field(0.0, ge=0, lt=1, description="Adam β₁ for both networks (paper: 0)")
    beta2: float = Field(0.9, ge=0, lt=1, description="Adam β₂ for both networks (paper: 0.9)")
    discriminator: Literal["dcgan", "standard-cnn"] = Field("dcgan", description=(
        "D's architecture: standard-cnn (the paper's Table 3 (b): 3×3/4×4 convolutions, 64…512 channels "
        "scaled by base_channels/64) or dcgan (the shared DCGAN-style D, three 4×4 stride-2 convolutions)"))


class SNGAN(GANPlugin):
    spec = ModelSpec(
        name="sngan",
        title="SNGAN (spectral normalisation, hinge loss)",
        paper="Miyato et al. 2018, Spectral Normalization for Generative Adversarial Networks",
        arxiv="1802.05957",
        family=Family.hinge,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
        deviations=(
            "The default D is the DCGAN-style net (three 4×4 stride-2 convolutions at 32×32), not the standard "
            "CNN of Table 3 (b); discriminator=standard-cnn selects the paper's.",
            "G is the shared DCGAN-style generator (z projected straight to 4×4, 4·base channels there, the last "
            "transposed convolution outputs the image), not Table 3 (a)'s (dense to 4×4×512, transposed "
            "convolutions to 256, 128, 64 channels, then a 3×3 convolution).",
            "The image presets train on MNIST resized to 32×32 (one channel) with base_channels 32; the paper "
            "trains on CIFAR-10 (32×32) and STL-10 (48×48) with 64.",
            "torch's spectral-norm parametrisation runs one power iteration per forward pass in training mode, so "
            "a D step (real and generated batch in two passes) runs two; Algorithm 1 runs one per update.",
        ),
    )
    Config = SNGANConfig
    config: SNGANConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    def build(self):  # G: the DCGAN generator; D: spectrally normalised, no batch norm, LeakyReLU(0.1)
        return {"G": image_generator(self, self.config.latent_dim), "D": self.discriminator()}

    def discriminator(self):
        if self.config.discriminator == "standard-cnn":  # the paper's Table 3 (b)
            return StandardCNNDiscriminator(self.data.channels * self.data.pack, self.data.resolution,
                                            self.config.base_channels, negative_slope=0.1,
                                            minibatch_std=self.tricks.minibatch_std,
                                            minibatch_discrimination=self.tricks.minibatch_discrimination)
        return image_discriminator(self, norm="none", spectral_norm=True, negative_slope=0.1)

    def optimizers(self):
        return adam(self.config)

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.n_dis),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch)).detach()
        real_out, fake_out = nets.D(batch.real), nets.D(fake)
        loss = losses.hinge_discriminator(real_out, fake_out)  # E[relu(1 − D(x))] + E[relu(1 + D(G(z)))]
        return PhaseResult(loss, d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake_out = nets.D(self.sample(nets, ctx, len(batch)))
        return PhaseResult(losses.hinge_generator(fake_out), d_fake=fake_out)  # −E[D(G(z))]

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim))


__doc__ = SNGAN.spec.with_deviations(__doc__)

