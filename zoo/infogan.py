"""InfoGAN — Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel 2016 (arXiv 1606.03657).

Method (§4–5): the generator's input is split into incompressible noise z and a latent code
c = (c₁, c₂, c₃): c₁ ~ Cat(K = 10), c₂, c₃ ~ U(−1, 1). A GAN alone is free to ignore c, so InfoGAN
maximises the mutual information I(c; G(z, c)) through its variational lower bound
L_I(G, Q) = E_{c~P(c), x~G(z,c)}[log Q(c | x)] + H(c) ≤ I(c; G(z, c)), with an auxiliary
distribution Q(c | x) that shares all convolutional layers with D and adds one hidden
fully-connected layer and its outputs (§6): softmax logits for c₁ and the means of a factored
Gaussian for the continuous codes (unit variance). The objective (eq. 6) is
min_{G,Q} max_D V(D, G) − λ L_I(G, Q), so λ·(−L_I) is added to the loss of *both* updates: the D
step trains D and the Q head on generated samples, the G step trains G to make its codes
recoverable. λ = 1 (§6, "for discrete latent codes we simply set λ to 1"). Update rule:
alternating D/Q and G steps, Adam (β₁ = 0.5), lr 2e-4 for D and 1e-3 for G (appendix C.1).

Through the harness: ``nets.D(x)`` returns D's logit and ``nets.D(x, with_q=True)`` returns
(logit, Q's outputs); the Q head is the ``q`` submodule of D with its own learning rate
(``OptimizerSpec.param_groups``). The step reports L_I's categorical part as a diagnostic
(``mi_lower_bound``: H(c₁) − CE, in nats; at most log 10 ≈ 2.30). The ``traversal`` sample view
shows one row per value of c₁ and c₂ swept from −2 to 2 along each row (the paper's Figure 2).
PacGAN packing is refused: Q needs one code prediction per sample, and a packed D sees several.

Deviations from the paper:
- G and D are the shared DCGAN family at 32×32 (``zoo.blocks``) with base_channels 32, not the
  paper's MNIST networks (FC 1024 → FC 7×7×128 → up-convolutions; D with an FC-1024 layer).
- z has 62 dimensions drawn from N(0, I); the paper draws its 62-d noise uniformly.
- The continuous codes' Q is a unit-variance Gaussian (its loss ½(c − μ)²) with λ = 1 for them too;
  the paper mentions a smaller λ and a learned variance as options.
- The MNIST preset trains with bf16 autocast on a CPU budget (a few thousand iterations), far
  shorter than the paper.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, DataKind, Family, ModelSpec, Networks, OptimizerSpec, Phase, PhaseResult,
                                   SampleContext, StepContext, losses)
from ganzoo.zoo.blocks import ImageDiscriminator
from ganzoo.zoo.image import AdamImageGANConfig, ImageGAN


class InfoGANConfig(AdamImageGANConfig):
    latent_dim: int = Field(62, ge=1, le=4096, description="Size of the incompressible noise z (paper: 62)")
    categories: int = Field(10, ge=2, le=1000, description="K of the categorical code c₁ ~ Cat(K)")
    continuous: int = Field(2, ge=0, le=64, description="Number of continuous codes ~ U(−1, 1)")
    info_weight: float = Field(1.0, ge=0, description="λ: weight of the information term L_I (paper: 1)")
    q_hidden: int = Field(128, ge=1, le=4096, description="Width of Q's hidden fully-connected layer")
    lr_g: float = Field(1e-3, gt=0, le=1, description="Learning rate of G (paper: 1e-3)")
    lr_d: float = Field(2e-4, gt=0, le=1, description="Learning rate of D's trunk and score (paper: 2e-4)")
    lr_q: float = Field(2e-4, gt=0, le=1, description="Learning rate of the Q head")


class InfoDiscriminator(nn.Module):
    """D's trunk and score, with the Q head on the same features: ``D(x)`` → logit,
    ``D(x, with_q=True)`` → (logit, Q outputs [K categorical logits, then the continuous means])."""

    def __init__(self, trunk: ImageDiscriminator, q_hidden: int, outputs: int) -> None:
        super().__init__()
        self.trunk = trunk  # its aux head (width q_hidden) is Q's first layer on the shared features
        self.q = nn.Sequential(nn.BatchNorm1d(q_hidden), nn.LeakyReLU(0.2, True), nn.Linear(q_hidden, outputs))

    def forward(self, x: Tensor, with_q: bool = False):
        score, hidden = self.trunk(x)
        return (score, self.q(hidden)) if with_q else score


class InfoGAN(ImageGAN):
    spec = ModelSpec(
        name="infogan",
        title="InfoGAN (information-maximising latent codes)",
        paper="Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information Maximizing GANs",
        arxiv="1606.03657",
        family=Family.minimax,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
        deviations=(
            "G and D are the shared DCGAN family at 32×32 with base_channels 32, not the paper's MNIST networks.",
            "z has 62 dimensions drawn from N(0, I); the paper draws its noise uniformly.",
            "Q models the continuous codes as unit-variance Gaussians with λ = 1; the paper mentions a smaller λ "
            "and a learned variance as options.",
            "The MNIST preset trains a few thousand iterations with bf16 autocast on a CPU budget.",
        ),
    )
    Config = InfoGANConfig
    config: InfoGANConfig
    unsupported_tricks = {"pack": "Q predicts each sample's latent code; a packed D judges several samples "
                                  "at once, so there is no per-sample code to recover"}

    # -- networks -------------------------------------------------------------------------------
    @property
    def code_dim(self) -> int:
        return self.config.categories + self.config.continuous

    @property
    def latent_dim(self) -> int:  # G's input: noise and codes
        return self.config.latent_dim + self.code_dim

    def discriminator(self, **options) -> nn.Module:
        return InfoDiscriminator(super().discriminator(aux_classes=self.config.q_hidden), self.config.q_hidden,
                                 self.code_dim)

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
        return self.generate_from(nets, ctx.latent(n, self.config.latent_dim), categorical, continuous)

    def sample_codes(self, nets: Networks, ctx: SampleContext, categorical: Tensor) -> Tensor:
        """Samples whose categorical code is given (the check of what c₁ learned)."""
        n = categorical.shape[0]
        return self.generate_from(nets, ctx.latent(n, self.config.latent_dim), categorical.to(ctx.device),
                                  ctx.uniform(n, self.config.continuous))

    # -- the information term -------------------------------------------------------------------
    def information_loss(self, q_out: Tensor, categorical: Tensor, continuous: Tensor) -> tuple[Tensor, Tensor]:
        """−L_I up to the constant H(c): cross-entropy of c₁ plus the Gaussian NLL ½(c − μ)² of the rest."""
        k = self.config.categories
        q_out = q_out.float()
        cat_loss = F.cross_entropy(q_out[:, :k], categorical)
        cont_loss = 0.5 * (q_out[:, k:] - continuous).pow(2).sum(1).mean() if self.config.continuous else 0.0
        return cat_loss + cont_loss, cat_loss

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        n = len(batch)
        categorical, continuous = self.draw_codes(ctx, n)
        fake = self.generate_from(nets, ctx.latent(n, self.config.latent_dim), categorical, continuous).detach()
        real_out = nets.D(batch.real)
        fake_out, q_out = nets.D(fake, with_q=True)
        info, cat_loss = self.information_loss(q_out, categorical, continuous)
        loss = losses.bce_discriminator(real_out, fake_out, ctx.real_target) + self.config.info_weight * info
        return PhaseResult(loss, logs={"info_loss": info}, d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        n = len(batch)
        categorical, continuous = self.draw_codes(ctx, n)
        fake = self.generate_from(nets, ctx.latent(n, self.config.latent_dim), categorical, continuous)
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
        z = ctx.latent(k, self.config.latent_dim).repeat_interleave(steps, 0)
        categorical = torch.arange(k, device=ctx.device).repeat_interleave(steps)
        continuous = torch.zeros(k * steps, self.config.continuous, device=ctx.device)
        if self.config.continuous:
            continuous[:, code] = torch.linspace(-2, 2, steps, device=ctx.device).repeat(k)
        return self.generate_from(nets, z, categorical, continuous), steps
