"""VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning — Srivastava, Valkov,
Russell, Gutmann & Sutton 2017 (arXiv 1705.07761).

Architecture: a generator G_γ: z → x, a *reconstructor* F_θ: x → z meant to invert G and to map
the data distribution to the noise distribution, and a discriminator D_ω on (z, x) pairs: MLPs on
2-D points (the pair concatenated at D's input); on images the DCGAN generator, a reconstructor
made of D's strided convolutions, and a D that joins its convolutional features of x with a
linear layer on z.
Loss: the objective (eq. 8) O(γ, θ) = KL[q_γ(x|z)p₀(z) ‖ p_θ(z|x)p(x)] + E[‖z − F_θ(G_γ(z))‖²]. The
KL term is estimated by D: trained by logistic regression to tell the generator's pairs (z, G(z))
(label 1) from the reconstructor's pairs (F(x), x), x ~ data (label 0), its logit estimates the log
density ratio, so KL ≈ E[D(z, G(z))]. Algorithm 1: D minimises the logistic loss; F minimises the
reconstruction ‖z − F(G(z))‖²; G minimises E[D(z, G(z))] + the same reconstruction.
Update rule: one D step, then one joint step of G and F on E[D(z, G(z))] + E[‖z − F(G(z))‖²] (F's
gradient comes only from the reconstruction, since D(z, G(z)) does not depend on F), Adam.

Deviations from the paper:
- G's and F's update is one optimizer step each on the joint loss (Algorithm 1 computes the same two
  gradients).
- Points: G, F and D are MLPs of 3 × 128 units (ReLU in G and F, LeakyReLU(0.2) in D) and z ∈ R²;
  the paper's 2-D experiments (§5.1) follow Unrolled GAN's networks and use a higher-dimensional z.
- Images: the zoo's DCGAN family (4×4 strided convolutions, batch norm, z of 100); the paper's
  Stacked MNIST networks follow DCGAN too, but their exact sizes are not given in the paper.
- The ring/grid presets use Adam 2e-4 (β₁ 0.5), batch 256 and a generator EMA.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, ModelSpec, Networks, PhaseResult, StepContext,
                                   losses)
from ganzoo.zoo.points_or_images import InferenceConfig, InferenceGAN


class VEEGANConfig(InferenceConfig):
    reconstruction_weight: float = Field(1.0, ge=0, description="Weight of ‖z − F(G(z))‖² (paper: 1)")


class VEEGAN(InferenceGAN):
    spec = ModelSpec(
        name="veegan",
        title="VEEGAN",
        paper="Srivastava et al. 2017, VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning",
        arxiv="1705.07761",
        family=Family.minimax,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "G and F take one optimizer step each on the joint loss E[D(z, G(z))] + E[‖z − F(G(z))‖²] (the two "
            "gradients of Algorithm 1).",
            "Points: G, F, D are MLPs of 3 × 128 units and z ∈ R²; the paper follows Unrolled GAN's networks with "
            "a higher-dimensional z.",
            "Images: the zoo's DCGAN family (batch norm, z of 100); the paper's Stacked MNIST nets follow DCGAN but "
            "their sizes are not given.",
            "The ring/grid presets use Adam 2e-4 (β₁ 0.5), batch 256 and a generator EMA.",
        ),
    )
    Config = VEEGANConfig
    config: VEEGANConfig
    inverse = "F"  # the reconstructor; networks, optimizers and the two phases: InferenceGAN

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        z = ctx.latent(len(batch), self.latent_dim)
        generated = nets.D(nets.G(z), z)  # (z, G(z)): label 1
        reconstructed = nets.D(batch.real, nets.F(batch.real))  # (F(x), x): label 0
        loss = losses.bce_discriminator(generated, reconstructed)
        # for the diagnostics, "real" is the data's pair: D's logit there is the negated log ratio
        return PhaseResult(loss, d_real=-reconstructed, d_fake=-generated)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        z = ctx.latent(len(batch), self.latent_dim)
        x = nets.G(z)
        generated = nets.D(x, z)
        reconstruction = (z - nets.F(x).float()).pow(2).sum(dim=1).mean()
        kl = generated.float().mean()
        return PhaseResult(kl + self.config.reconstruction_weight * reconstruction,
                           logs={"kl_estimate": kl, "reconstruction": reconstruction}, d_fake=-generated)
