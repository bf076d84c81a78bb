"""cGANs with Projection Discriminator — Miyato & Koyama 2018 (arXiv 1802.05637).

Architecture: D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩ (eq. 3): φ is D's convolutional trunk, ψ a linear
score, and the class enters only through the inner product of a learned class embedding with D's
features pooled over space — a projection, not a concatenation. Every weight of D, the embedding
included, is spectrally normalised (Miyato et al. 2018); no batch norm in D, LeakyReLU(0.1). G is
conditioned through *conditional batch normalisation* (§4: "conditional batch normalization" in G):
each batch norm is affine-free and its per-channel gain and bias are looked up by class.
Loss: the hinge loss — D minimises E[relu(1 − D(x, y))] + E[relu(1 + D(G(z, ỹ), ỹ))], G minimises
−E[D(G(z, ỹ), ỹ)]; real images keep their labels, ỹ is drawn uniformly.
Update rule: n_dis D steps per G step, Adam (α = 2e-4, β₁ = 0, β₂ = 0.9), the paper's settings.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.blocks import init_normal_, stages, widths
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, AdamImageGANConfig, adam, image_discriminator, labelled_classes


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm without its own affine; the gain and bias are those of the class (de Vries et al. 2017)."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(num_classes, channels)
        self.bias = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        out = self.norm(x)
        return out * self.gain(labels).to(out.dtype)[:, :, None, None] + self.bias(labels).to(out.dtype)[:, :, None, None]


class CBNGenerator(nn.Module):
    """(z, y) → image in [-1, 1]: z projected to start×start, then ×2 stages, every batch norm conditional on y."""

    def __init__(self, latent_dim: int, channels: int, resolution: int, base_channels: int, num_classes: int) -> None:
        super().__init__()
        start, count = stages(resolution)
        chans = widths(base_channels, count)[::-1]  # coarse → fine
        self.convs = nn.ModuleList([nn.ConvTranspose2d(latent_dim, chans[0], start, 1, 0, bias=False)])
        self.convs.extend(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False) for c_in, c_out in zip(chans, chans[1:]))
        self.norms = nn.ModuleList(ConditionalBatchNorm2d(c, num_classes) for c in chans)
        self.out = nn.ConvTranspose2d(chans[-1], channels, 4, 2, 1)
        init_normal_(self)
        for norm in self.norms:  # init_normal_ leaves embeddings alone: gains 1, biases 0
            nn.init.ones_(norm.gain.weight)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if labels is None:
            raise ValueError("this generator is class-conditional: pass labels")
        x = z[:, :, None, None]
        for conv, norm in zip(self.convs, self.norms):
            x = torch.relu(norm(conv(x), labels))
        return torch.tanh(self.out(x))


class ProjGANConfig(AdamImageGANConfig):
    latent_dim: int = Field(128, ge=1, le=4096, description="Size of the noise vector z (paper: 128)")
    n_dis: int = Field(5, ge=1, le=100, description="D steps per G step (paper: 5)")
    beta1: float = Field(0.0, ge=0, lt=1, description="Adam β₁ for both networks (paper: 0)")
    beta2: float = Field(0.9, ge=0, lt=1, description="Adam β₂ for both networks (paper: 0.9)")


class ProjGAN(GANPlugin):
    spec = ModelSpec(
        name="projgan",
        title="cGAN with projection discriminator (hinge loss, spectral norm, conditional batch norm)",
        paper="Miyato & Koyama 2018, cGANs with Projection Discriminator",
        arxiv="1802.05637",
        family=Family.hinge,
        data_kinds=[DataKind.images],
        conditional=True,
        default_dataset="mnist",
        deviations=(
            "G and D are the zoo's DCGAN-shaped networks (transposed / strided 4×4 convolutions, depth from the "
            "resolution), not the paper's ResNets; φ(x) is the last convolution's output, summed over space for the "
            "projection and flattened for ψ.",
            "The MNIST preset runs one D step per G step (n_dis 1, as cgan's) with Adam at 1e-3 for both networks "
            "(the paper: 2e-4 with n_dis 5), on MNIST resized to 32×32 with base_channels 32; the paper trains on "
            "ImageNet and CIFAR-10. At 2e-4 and n_dis 1, D wins within 100 iterations on these networks and G "
            "ignores the class (conditional accuracy 0.26 at 1,000 iterations).",
            "torch's spectral-norm parametrisation runs one power iteration per forward pass in training mode, so a "
            "D step (real and generated batch in two passes) runs two.",
        ),
    )
    Config = ProjGANConfig
    config: ProjGANConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    def build(self):  # G with conditional batch norm; the DCGAN-family D with spectral norm and a projection head
        c, classes = self.config, labelled_classes(self)
        return {"G": CBNGenerator(c.latent_dim, self.data.channels, self.data.resolution, c.base_channels, classes),
                "D": image_discriminator(self, norm="none", spectral_norm=True, negative_slope=0.1,
                                         num_classes=classes, conditioning="projection")}

    def optimizers(self):
        return adam(self.config)

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=self.config.n_dis),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        labels = ctx.random_labels(len(batch))  # ỹ, uniform; real images keep their labels
        fake = self.sample(nets, ctx, len(batch), labels).detach()
        real_out, fake_out = nets.D(batch.real, batch.labels), nets.D(fake, labels)
        loss = losses.hinge_discriminator(real_out, fake_out)  # E[relu(1 − D(x, y))] + E[relu(1 + D(G(z, ỹ), ỹ))]
        return PhaseResult(loss, d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        labels = ctx.random_labels(len(batch))
        fake_out = nets.D(self.sample(nets, ctx, len(batch), labels), labels)
        return PhaseResult(losses.hinge_generator(fake_out), d_fake=fake_out)  # −E[D(G(z, ỹ), ỹ)]

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.config.latent_dim), labels)


__doc__ = ProjGAN.spec.with_deviations(__doc__)

