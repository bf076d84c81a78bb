"""GDPP: Learning Diverse Generations Using Determinantal Point Processes — Elfeki, Couprie, Rivière &
Elhoseiny 2019 (arXiv 1812.00068).

Architecture: any GAN whose discriminator exposes the features of its last hidden layer. Here D
returns ``(score, features)``: on 2-D points an MLP whose last hidden layer is φ; on images the
DCGAN discriminator of ``zoo.blocks`` whose flattened last convolution is φ.
Loss: a base GAN (``base``: the non-saturating GAN, or WGAN-GP) plus, in G's loss only, the DPP
loss (§3, eq. 5): with L_S = φ̂(S)φ̂(S)ᵀ the kernel of a batch's unit-normalised features and
(λᵢ, vᵢ) its eigen-pairs in ascending order,
  L_DPP = ``eigval_weight`` · (1/n) Σᵢ (λᵢ^real − λᵢ^fake)² + Σᵢ λ̂ᵢ^real · (1 − ⟨vᵢ^real, vᵢ^fake⟩),
λ̂ the real eigenvalues min–max normalised, n the batch size: the magnitude term is a mean (the
authors' code takes ``mse_loss``, a mean; eq. 5 writes a sum), the structure term a sum. The first term matches the diversity magnitudes of
the fake batch to the real one's, the second their structure. The "1 −" only adds a constant
(Σ λ̂ᵢ^real, fixed for G) to the paper's −Σ λ̂ᵢ cos(vᵢ^real, vᵢ^fake), so the loss is 0 when the two
feature sets are equal and the gradients are the paper's. D is trained by the base loss alone.
Update rule: the base model's (GAN: one D step, one G step; WGAN-GP: five critic steps), Adam.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.blocks import ImageDiscriminator
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, adam
from ganzoo.zoo.mlp import mlp
from ganzoo.zoo.points_or_images import (PointsOrImagesConfig, latent_size, on_points, points_activation, points_init,
                                         points_or_image_generator)


class GDPPConfig(PointsOrImagesConfig):
    base: Literal["non_saturating", "wgan-gp"] = Field("non_saturating", description=(
        "The base GAN whose generator loss GDPP complements: the non-saturating GAN or WGAN-GP"))
    gdpp_weight: float = Field(1.0, ge=0, description="Weight of the DPP loss in G's loss (paper: 1)")
    eigval_weight: float = Field(1e-4, ge=0, description="Scale of the eigenvalue term (authors' code: 1e-4)")
    gp_weight: float = Field(10.0, ge=0, description="WGAN-GP base: λ of the gradient penalty")
    n_critic: int = Field(5, ge=1, le=100, description="WGAN-GP base: critic steps per generator step")


def _guard(grad: Tensor) -> Tensor:
    return torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0).clamp(-1e3, 1e3)


def _eigen(features: Tensor) -> tuple[Tensor, Tensor]:
    phi = F.normalize(features.double().flatten(1), p=2, dim=1)
    kernel = phi @ phi.T
    if kernel.requires_grad:
        kernel.register_hook(_guard)
    return torch.linalg.eigh(kernel)  # ascending eigenvalues, eigenvectors as columns


def gdpp_loss(fake_features: Tensor, real_features: Tensor, eigval_weight: float = 1e-4) -> Tensor:
    """The DPP loss of eq. 5 (see the module docstring); 0 when the two feature sets are equal."""
    fake_vals, fake_vecs = _eigen(fake_features)
    real_vals, real_vecs = _eigen(real_features.detach())
    magnitude = (real_vals - fake_vals).pow(2).mean()
    span = real_vals.max() - real_vals.min()
    weights = (real_vals - real_vals.min()) / span if span > 1e-10 else real_vals
    structure = (weights * (1.0 - (real_vecs * fake_vecs).sum(dim=0))).sum()
    return (eigval_weight * magnitude + structure).to(fake_features.dtype)


class PointsFeatureDiscriminator(nn.Module):
    """x ∈ R^(dim·pack) → (score, φ(x)), φ the last hidden layer."""

    def __init__(self, dim: int, hidden: int, depth: int, pack: int = 1, activation: str = "leaky_relu") -> None:
        super().__init__()
        body = mlp(dim * pack, hidden, depth, 1, activation=activation)
        self.features, self.score = body[:-1], body[-1]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(x)
        return self.score(h).squeeze(-1), h


class ImageFeatureDiscriminator(ImageDiscriminator):
    """The DCGAN discriminator, returning (score, flattened last convolution)."""

    def forward(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        conv = self.body(x)
        h = (self.mbstd(conv) if self.mbstd is not None else conv).flatten(1)
        if self.mbdisc is not None:
            h = self.mbdisc(h)
        return self.score(h).squeeze(1), conv.flatten(1)


class GDPP(GANPlugin):
    spec = ModelSpec(
        name="gdpp",
        title="GDPP (DPP loss on a base GAN)",
        paper="Elfeki, Couprie, Rivière & Elhoseiny 2019, GDPP: Learning Diverse Generations Using "
              "Determinantal Point Processes",
        arxiv="1812.00068",
        family=Family.minimax,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "The eigen-decomposition runs in float64 and non-finite kernel gradients (repeated eigenvalues) are "
            "zeroed, the rest clipped to ±1e3.",
            "eigval_weight = 1e-4 scales the eigenvalue term, a mean over the eigenvalues, as in the authors' code "
            "(GDPP_Loss_Tensorflow_Pytorch.py; eq. 5 weights both terms 1 and sums).",
            "Points: MLPs of 3 × 128 units (ReLU G, LeakyReLU(0.2) D), 2-d z, Adam 1e-3, batch 256, 1,500 iterations "
            "and a generator EMA in the ring/grid presets; the authors' gdppgan_Synthetic.py follows Unrolled GAN's "
            "setup: z 256, G and D with 2 tanh layers of 128 (φ = D's second tanh layer), batch 512, Adam β₁ 0.5 "
            "with 1e-3 (G) / 1e-4 (D) and 25,000 iterations (about 40 CPU-minutes here at ~90 ms per iteration). "
            "The gdpp/*-gdpp-protocol presets take the authors' networks and optimizers (mlp_activation=tanh, "
            "depth 2, z 256, batch 512) and their orthogonal initialisation (orthogonal_gain 1.4) for 2,000 "
            "iterations.",
            "Points: the VEEGAN/PacGAN ring with 8 distinct centres; the authors' ring code uses "
            "linspace(0, 2π, 8), so two of its centres coincide.",
        ),
    )
    Config = GDPPConfig
    composes_with = {"r1_gamma": "GDPP's optional WGAN-GP penalty is at interpolates; R1 at real data adds to it"}
    config: GDPPConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    @property
    def latent_dim(self) -> int:  # 2 on points, 100 on images unless configured
        return latent_size(self.data, self.config.latent_dim)

    def build(self):  # G: an MLP on points, the DCGAN generator on images; D returns (score, φ(x))
        c, data = self.config, self.data
        G = points_or_image_generator(self, self.latent_dim)
        if on_points(data):
            if self.tricks.minibatch_std or self.tricks.minibatch_discrimination:
                raise ValueError("minibatch_std/minibatch_discrimination are implemented for the image D only")
            D = PointsFeatureDiscriminator(data.shape[0], c.hidden, c.depth, data.pack, points_activation(c, "D"))
        else:  # WGAN-GP's critic takes no batch norm
            D = ImageFeatureDiscriminator(data.channels * data.pack, data.resolution, c.base_channels,
                                          norm="layer" if c.base == "wgan-gp" else "batch",
                                          minibatch_std=self.tricks.minibatch_std,
                                          minibatch_discrimination=self.tricks.minibatch_discrimination)
        return points_init({"G": G, "D": D}, data, c.orthogonal_gain)

    def optimizers(self):
        return adam(self.config)

    def phases(self):
        repeats = self.config.n_critic if self.config.base == "wgan-gp" else 1
        return [Phase("discriminator", self.discriminator_step, updates=("D",), repeats=repeats),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch)).detach()
        (real_scores, _), (fake_scores, _) = nets.D(batch.real), nets.D(fake)
        if self.config.base == "wgan-gp":
            wasserstein = losses.wasserstein_critic(real_scores, fake_scores)
            penalty = ctx.gradient_penalty(nets.D, batch.real, fake)
            return PhaseResult(wasserstein + self.config.gp_weight * penalty,
                               logs={"wasserstein": -wasserstein, "gradient_penalty": penalty},
                               d_real=real_scores, d_fake=fake_scores)
        loss = losses.bce_discriminator(real_scores, fake_scores, ctx.real_target)
        return PhaseResult(loss, d_real=real_scores, d_fake=fake_scores)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch))
        fake_scores, fake_features = nets.D(fake)
        _, real_features = nets.D(batch.real)
        if self.config.base == "wgan-gp":
            base = losses.wasserstein_generator(fake_scores)
        else:
            base = losses.bce_generator_nonsaturating(fake_scores)
        dpp = gdpp_loss(fake_features, real_features, self.config.eigval_weight)
        return PhaseResult(base + self.config.gdpp_weight * dpp, logs={"gdpp": dpp}, d_fake=fake_scores)

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.latent_dim))


__doc__ = GDPP.spec.with_deviations(__doc__)

