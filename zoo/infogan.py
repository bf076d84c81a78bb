"""InfoGAN — Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel 2016 (arXiv 1606.03657).

Method (§4–5): the generator's input is split into incompressible noise z (62-d, uniform) and a
latent code c = (c₁, c₂, c₃): c₁ ~ Cat(K = 10), c₂, c₃ ~ U(−1, 1). A GAN alone is free to ignore c,
so InfoGAN maximises the mutual information I(c; G(z, c)) through its variational lower bound
L_I(G, Q) = E_{c~P(c), x~G(z,c)}[log Q(c | x)] + H(c) ≤ I(c; G(z, c)), with an auxiliary
distribution Q(c | x) that shares all convolutional layers with D and adds one hidden
fully-connected layer and its outputs (§6): softmax logits for c₁ and the means of a factored
Gaussian for the continuous codes (unit variance). The objective (eq. 6) is
min_{G,Q} max_D V(D, G) − λ L_I(G, Q), so λ·(−L_I) is added to the loss of *both* updates: the D
step trains D and the Q head on generated samples, the G step trains G to make its codes
recoverable. λ = 1 for the discrete code (§6, "for discrete latent codes we simply set λ to 1");
for continuous codes "a smaller λ is typically used" so that the term, which involves differential
entropy, stays on the scale of the GAN objective: here 0.1 (``continuous_weight``). Update rule:
alternating D/Q and G steps, Adam (β₁ = 0.5), lr 2e-4 for D and 1e-3 for G (appendix C.1). The
paper's MNIST networks (Table 1) are available as ``networks="paper"``: G = FC 1024 → FC 7×7×128 →
4×4 up-convolutions (64, 1); D = 4×4 convolutions (64, 128) → FC 1024, with D's score and Q's
FC-128 head on that layer.

Through the harness: ``nets.D(x)`` returns D's logit and ``nets.D(x, with_q=True)`` returns
(logit, Q's outputs); the Q head is the ``q`` submodule of D with its own learning rate
(``OptimizerSpec.param_groups``). The step reports L_I's categorical part as a diagnostic
(``mi_lower_bound``: H(c₁) − CE, in nats; at most log 10 ≈ 2.30). The ``traversal`` sample view
shows one row per value of c₁ and c₂ swept from −2 to 2 along each row (the paper's Figure 2).
PacGAN packing is refused: Q needs one code prediction per sample, and a packed D sees several.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, OptimizerSpec, Phase,
                                   PhaseResult, SampleContext, StepContext, losses)
from ganzoo.zoo.blocks import ImageDiscriminator, init_normal_
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, AdamImageGANConfig, image_discriminator, image_generator


class InfoGANConfig(AdamImageGANConfig):
    latent_dim: int = Field(62, ge=1, le=4096, description="Size of the incompressible noise z (paper: 62)")
    categories: int = Field(10, ge=2, le=1000, description="K of the categorical code c₁ ~ Cat(K)")
    continuous: int = Field(2, ge=0, le=64, description="Number of continuous codes ~ U(−1, 1)")
    info_weight: float = Field(1.0, ge=0, description="λ: weight of the information term L_I (paper: 1)")
    continuous_weight: float = Field(0.1, ge=0, description=(
        "Weight of the continuous codes' term inside L_I, relative to the categorical one (paper: a smaller λ "
        "for continuous codes, whose differential entropy otherwise dominates)"))
    networks: Literal["dcgan", "paper"] = Field("dcgan", description=(
        "dcgan: the shared DCGAN family (zoo.blocks, base_channels); paper: the MNIST networks of the "
        "paper's Table 1 (FC layers of 1024 in G and D; resolution a multiple of 4, e.g. 28)"))
    noise: Literal["uniform", "normal"] = Field("uniform", description=(
        "Distribution of z: U(−1, 1) (the paper's) or N(0, I)"))
    q_hidden: int = Field(128, ge=1, le=4096, description="Width of Q's hidden fully-connected layer")
    lr_g: float = Field(1e-3, gt=0, le=1, description="Learning rate of G (paper: 1e-3)")
    lr_d: float = Field(2e-4, gt=0, le=1, description="Learning rate of D's trunk and score (paper: 2e-4)")
    lr_q: float = Field(2e-4, gt=0, le=1, description="Learning rate of the Q head")


class PaperGenerator(nn.Module):
    """The paper's MNIST G (Table 1): FC 1024-BN-ReLU → FC (r/4)²·128-BN-ReLU → 4×4 up-conv 64
    (stride 2)-BN-ReLU → 4×4 up-conv to the image (stride 2), tanh for images in [−1, 1]."""

    def __init__(self, latent_dim: int, channels: int, resolution: int) -> None:
        super().__init__()
        if resolution % 4:
            raise ValueError(f"the paper's InfoGAN networks need a resolution divisible by 4, got {resolution}")
        self.side = resolution // 4
        self.fc = nn.Sequential(nn.Linear(latent_dim, 1024), nn.BatchNorm1d(1024), nn.ReLU(True),
                                nn.Linear(1024, self.side**2 * 128), nn.BatchNorm1d(self.side**2 * 128), nn.ReLU(True))
        self.net = nn.Sequential(nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(True),
                                 nn.ConvTranspose2d(64, channels, 4, 2, 1), nn.Tanh())
        init_normal_(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(self.fc(z).view(-1, 128, self.side, self.side))


class PaperTrunk(nn.Module):
    """The paper's MNIST D (Table 1): 4×4 conv 64 (stride 2)-lReLU → 4×4 conv 128 (stride 2)-BN-lReLU →
    FC 1024-BN-lReLU, then D's score (FC 1) and Q's first layer (FC q_hidden) on those features."""

    def __init__(self, channels: int, resolution: int, q_hidden: int) -> None:
        super().__init__()
        side = resolution // 4
        self.body = nn.Sequential(nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.1, True),
                                  nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.1, True),
                                  nn.Flatten(), nn.Linear(128 * side * side, 1024), nn.BatchNorm1d(1024),
                                  nn.LeakyReLU(0.1, True))
        self.score = nn.Linear(1024, 1)
        self.classifier = nn.Linear(1024, q_hidden)
        init_normal_(self)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)
        return self.score(h).squeeze(1), self.classifier(h)


class InfoDiscriminator(nn.Module):
    """D's trunk and score, with the Q head on the same features: ``D(x)`` → logit,
    ``D(x, with_q=True)`` → (logit, Q outputs [K categorical logits, then the continuous means])."""

    def __init__(self, trunk: ImageDiscriminator | PaperTrunk, q_hidden: int, outputs: int) -> None:
        super().__init__()
        self.trunk = trunk  # its aux head (width q_hidden) is Q's first layer on the shared features
        self.q = nn.Sequential(nn.BatchNorm1d(q_hidden), nn.LeakyReLU(0.2, True), nn.Linear(q_hidden, outputs))

    def forward(self, x: Tensor, with_q: bool = False):
        score, hidden = self.trunk(x)
        return (score, self.q(hidden)) if with_q else score


class InfoGAN(GANPlugin):
    spec = ModelSpec(
        name="infogan",
        title="InfoGAN (information-maximising latent codes)",
        paper="Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information Maximizing GANs",
        arxiv="1606.03657",
        family=Family.minimax,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
        deviations=(
            "The model's default (networks=dcgan) is the shared DCGAN family at 32×32 (zoo.blocks) with Q's hidden "
            "layer on D's last convolution, not the paper's MNIST networks (networks=paper) with their FC-1024 "
            "layers: those cost 274 ms (bf16) / 442 ms (fp32) per iteration of batch 64 on one CPU core, the DCGAN "
            "family 85 / 131 ms. The MNIST preset uses the paper's networks at 28×28 with the authors' code's "
            "settings (openai/InfoGAN launchers/run_mnist_exp.py: batch 128, every code weighted 1, 5,000 "
            "updates): its code→digit agreement was 90.6 / 89.65 / 88.8 / 78.95 / 98.5 % on seeds 0–4 "
            "(docs/zoo.md).",
            "The continuous codes' default weight 0.1 is our value for the paper's unspecified 'smaller λ'; the "
            "authors' code weighs them 1 (info_reg_coeff, with a fixed unit-variance Gaussian, our ½(c − μ)²), and "
            "the MNIST preset does the same. Q's Gaussian has unit variance (the paper mentions a learned one).",
            "The MNIST preset trains with bf16 autocast, on 8,000 digits when only MNIST's test split is present "
            "(the authors train on MNIST's 55,000 training digits).",
        ),
    )
    Config = InfoGANConfig
    config: InfoGANConfig
    architecture_tricks = ARCHITECTURE_TRICKS  # networks=dcgan only; the paper's networks refuse them
    unsupported_tricks = {"pack": "Q predicts each sample's latent code; a packed D judges several samples "
                                  "at once, so there is no per-sample code to recover"}

    # -- networks -------------------------------------------------------------------------------
    @property
    def code_dim(self) -> int:
        return self.config.categories + self.config.continuous

    @property
    def latent_dim(self) -> int:  # G's input: noise and codes
        return self.config.latent_dim + self.code_dim

    def build(self):  # the paper's Table 1 networks, or the DCGAN family; Q shares D's trunk
        c = self.config
        if c.networks == "paper":
            G = PaperGenerator(self.latent_dim, self.data.channels, self.data.resolution)
            if self.tricks.minibatch_std or self.tricks.minibatch_discrimination:
                raise ValueError("the paper's InfoGAN networks take no architecture tricks; use networks=dcgan")
            trunk = PaperTrunk(self.data.channels, self.data.resolution, c.q_hidden)
        else:
            G = image_generator(self, self.latent_dim)
            trunk = image_discriminator(self, aux_classes=c.q_hidden)  # its aux head is Q's first layer
        return {"G": G, "D": InfoDiscriminator(trunk, c.q_hidden, self.code_dim)}


    def optimizers(self):
        c = self.config
        return {"G": OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2)),
                "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2), param_groups={"q": c.lr_q})}

    # -- codes ----------------------------------------------------------------------------------
    def draw_codes(self, ctx: StepContext | SampleContext, n: int) -> tuple[Tensor, Tensor]:
        """c₁ as class indices (n,) and the continuous codes (n, continuous)."""
        return ctx.categorical(n, self.config.categories), ctx.uniform(n, self.config.continuous)

    def generate_from(self, nets: Networks, z: Tensor, categorical: Tensor, continuous: Tensor) -> Tensor:
        one_hot = F.one_hot(categorical, self.config.categories).to(z.dtype)
        return nets.G(torch.cat([z, one_hot, continuous.to(z.dtype)], dim=1))

    def sample(self, nets, ctx, n, labels=None):
        categorical, continuous = self.draw_codes(ctx, n)
        return self.generate_from(nets, self.noise(ctx, n), categorical, continuous)

    def noise(self, ctx: StepContext | SampleContext, n: int) -> Tensor:
        """The incompressible noise z."""
        if self.config.noise == "uniform":
            return ctx.uniform(n, self.config.latent_dim)
        return ctx.latent(n, self.config.latent_dim)

    def sample_codes(self, nets: Networks, ctx: SampleContext, categorical: Tensor) -> Tensor:
        """Samples whose categorical code is given (the check of what c₁ learned)."""
        n = categorical.shape[0]
        return self.generate_from(nets, self.noise(ctx, n), categorical.to(ctx.device),
                                  ctx.uniform(n, self.config.continuous))

    # -- the information term -------------------------------------------------------------------
    def information_loss(self, q_out: Tensor, categorical: Tensor, continuous: Tensor) -> tuple[Tensor, Tensor]:
        """−L_I up to the constant H(c): cross-entropy of c₁ plus the Gaussian NLL ½(c − μ)² of the rest."""
        k = self.config.categories
        q_out = q_out.float()
        cat_loss = F.cross_entropy(q_out[:, :k], categorical)
        cont_loss = 0.5 * (q_out[:, k:] - continuous).pow(2).sum(1).mean() if self.config.continuous else 0.0
        return cat_loss + self.config.continuous_weight * cont_loss, cat_loss

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        n = len(batch)
        categorical, continuous = self.draw_codes(ctx, n)
        fake = self.generate_from(nets, self.noise(ctx, n), categorical, continuous).detach()
        real_out = nets.D(batch.real)
        fake_out, q_out = nets.D(fake, with_q=True)
        info, cat_loss = self.information_loss(q_out, categorical, continuous)
        loss = losses.bce_discriminator(real_out, fake_out, ctx.real_target) + self.config.info_weight * info
        return PhaseResult(loss, logs={"info_loss": info}, d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        n = len(batch)
        categorical, continuous = self.draw_codes(ctx, n)
        fake = self.generate_from(nets, self.noise(ctx, n), categorical, continuous)
        fake_out, q_out = nets.D(fake, with_q=True)
        info, cat_loss = self.information_loss(q_out, categorical, continuous)
        loss = losses.bce_generator_nonsaturating(fake_out) + self.config.info_weight * info
        accuracy = (q_out[:, : self.config.categories].argmax(1) == categorical).float().mean()
        return PhaseResult(loss, logs={"info_loss": info}, d_fake=fake_out,
                           diagnostics={"mi_lower_bound": math.log(self.config.categories) - cat_loss.detach(),
                                        "q_accuracy": accuracy})

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",)),
                Phase("generator", self.generator_step, updates=("G",))]

    # -- structured samples ---------------------------------------------------------------------
    def sample_views(self):
        return {"traversal": lambda nets, ctx: self.traversal(nets, ctx, 0),
                **({"traversal_c2": lambda nets, ctx: self.traversal(nets, ctx, 1)}
                   if self.config.continuous > 1 else {})}

    def traversal(self, nets: Networks, ctx: SampleContext, code: int, steps: int = 10) -> tuple[Tensor, int]:
        """One row per value of c₁; along a row the continuous code ``code`` goes from −2 to 2, the
        other codes at 0 and z fixed per row (the paper's Figure 2)."""
        k = self.config.categories
        z = self.noise(ctx, k).repeat_interleave(steps, 0)
        categorical = torch.arange(k, device=ctx.device).repeat_interleave(steps)
        continuous = torch.zeros(k * steps, self.config.continuous, device=ctx.device)
        if self.config.continuous:
            continuous[:, code] = torch.linspace(-2, 2, steps, device=ctx.device).repeat(k)
        return self.generate_from(nets, z, categorical, continuous), steps


__doc__ = InfoGAN.spec.with_deviations(__doc__)
