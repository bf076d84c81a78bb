"""Spectral Normalization for GANs — Miyato et al. 2018 (arXiv 1802.05957).

Architecture: the DCGAN-style CNN (``zoo.blocks``) with every weight of D divided by its
spectral norm σ(W), estimated by one power iteration per forward pass (§2.1), which bounds D's
Lipschitz constant by 1 per layer; no batch norm in D, LeakyReLU(0.1) (Table 3). G keeps batch norm.
Loss: the hinge loss — D minimises E[relu(1 − D(x))] + E[relu(1 + D(G(z)))]; G minimises −E[D(G(z))].
Update rule: n_dis = 5 D steps per G step, Adam (α = 2e-4, β₁ = 0, β₂ = 0.9).
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import DataKind, Family, ModelSpec, Phase, losses
from ganzoo.zoo.image import AdamImageGANConfig, ImageGAN


class SNGANConfig(AdamImageGANConfig):
    latent_dim: int = Field(128, ge=1, le=4096, description="Size of the noise vector z (paper: 128)")
    n_dis: int = Field(5, ge=1, le=100, description="D steps per G step (paper: 5)")
    beta1: float = Field(0.0, ge=0, lt=1, description="Adam β₁ for both networks (paper: 0)")
    beta2: float = Field(0.9, ge=0, lt=1, description="Adam β₂ for both networks (paper: 0.9)")


class SNGAN(ImageGAN):
    spec = ModelSpec(
        name="sngan",
        title="SNGAN (spectral normalisation, hinge loss)",
        paper="Miyato et al. 2018, Spectral Normalization for Generative Adversarial Networks",
        arxiv="1802.05957",
        family=Family.hinge,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
    )
    Config = SNGANConfig
    config: SNGANConfig

    def discriminator(self):
        return super().discriminator(norm="none", spectral_norm=True, negative_slope=0.1)

    def discriminator_loss(self, real_out, fake_out, ctx):
        return losses.hinge_discriminator(real_out, fake_out)

    def generator_loss(self, fake_out):
        return losses.hinge_generator(fake_out)

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.n_dis),
                Phase("generator", self.generator_step, updates=("G",))]
