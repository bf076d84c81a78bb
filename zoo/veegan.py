"""VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning — Srivastava, Valkov,
Russell, Gutmann & Sutton 2017 (arXiv 1705.07761).

Architecture: a generator G_γ: z → x, a *reconstructor* F_θ: x → z meant to invert G and to map
the data distribution to the noise distribution, and a discriminator D_ω on (z, x) pairs: MLPs on
2-D points (the pair concatenated at D's input); on images the DCGAN generator, a reconstructor
made of D's strided convolutions, and a D that joins its convolutional features of x with a
linear layer on z. The reconstructor defines p_θ(z|x) = N(F_θ(x), σ²I), σ = 1 (``reconstructor_noise``).
Loss: the objective (eq. 8) O(γ, θ) = KL[q_γ(x|z)p₀(z) ‖ p_θ(z|x)p(x)] − E[log p₀(z)] + E[d(z, F_θ(x))].
The KL term is estimated by D: trained by logistic regression to tell the generator's pairs (z, G(z))
(label 1) from the reconstructor's pairs (z_g, x), x ~ data, z_g ~ p_θ(z|x) = N(F(x), I) (label 0),
its logit estimates the log density ratio, so KL ≈ E[D(z, G(z))]. The reconstruction d is the negative
log-likelihood of z under p_θ(z|G(z)): d(z, G(z)) = ½‖z − F(G(z))‖² up to a constant, as in the
authors' code (−log N(z; F(G(z)), I), summed over z's dimensions).
Algorithm 1: D minimises the logistic loss (lines 3–7, z_g sampled at line 6); F minimises the
reconstruction (line 9); G minimises E[D(z, G(z))] + the same reconstruction (line 11).
Update rule: one D step, then one joint step of G and F on E[D(z, G(z))] + ½E[‖z − F(G(z))‖²] (F's
gradient comes only from the reconstruction, since D(z, G(z)) does not depend on F), Adam.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, OptimizerSpec, Phase,
                                   PhaseResult, StepContext, losses)
from ganzoo.zoo.points_or_images import (JOINT_D_REFUSES_R1, InferenceConfig, inference_networks, latent_size,
                                         points_init)


class VEEGANConfig(InferenceConfig):
    reconstruction_weight: float = Field(1.0, ge=0, description=(
        "Weight of the reconstruction ½‖z − F(G(z))‖² (= −log N(z; F(G(z)), I) + const; paper and authors' code: 1)"))
    reconstructor_noise: float = Field(1.0, ge=0, le=100, description=(
        "σ of p_θ(z|x) = N(F(x), σ²I), from which D's data pair draws its z (Algorithm 1 line 6; authors' "
        "code: 1); 0 puts F(x) itself in the pair (a deviation)"))


class VEEGAN(GANPlugin):
    spec = ModelSpec(
        name="veegan",
        title="VEEGAN",
        paper="Srivastava et al. 2017, VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning",
        arxiv="1705.07761",
        family=Family.minimax,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "G and F take one optimizer step each on the joint loss E[D(z, G(z))] + ½E[‖z − F(G(z))‖²] (the two "
            "gradients of Algorithm 1), after D's step, so G's step sees the updated D; the authors' code updates D, "
            "G and F from the same parameters at once (one sess.run).",
            "Points: G, F, D are MLPs of depth × hidden units (3 × 128; ReLU in G and F, LeakyReLU(0.2) in D) and "
            "z ∈ R² by default; the authors' 2-D notebook (VEEGAN_2D_RING.ipynb, read through copies of it: the "
            "file is missing from the mirror of akashgit/VEEGAN) uses a 254-d z plus a 1-d noise input to G that "
            "is not reconstructed, G and F of 2 × 128 ReLU, a D with one hidden layer of 128 ReLU, batch 500, "
            "Adam 1e-3 (β₁ 0.5) for all three and 100 × 1,000 iterations. The veegan/*-veegan-protocol presets "
            "take those networks (latent_dim 254, depth 2, d_depth 1, d_activation relu), batch 500 and Adam "
            "1e-3, for 10,000 iterations.",
            "Images: the zoo's DCGAN family (batch norm, z of 100); the paper's Stacked MNIST nets follow DCGAN but "
            "their sizes are not given, and the authors' image code is not public.",
            "Options reconstructor_noise = 0 (F(x) itself in D's data pair instead of z ~ N(F(x), I)) and "
            "reconstruction_weight ≠ 1 depart from Algorithm 1 and the authors' code; no preset uses them. The "
            "ring/grid presets use Adam 2e-4, batch 256 and a generator EMA.",
        ),
    )
    Config = VEEGANConfig
    config: VEEGANConfig
    unsupported_tricks = JOINT_D_REFUSES_R1

    @property
    def latent_dim(self) -> int:  # 2 on points, 100 on images unless configured
        return latent_size(self.data, self.config.latent_dim)

    def build(self):  # G: z → x, the reconstructor F: x → z, D on (z, x) pairs: MLPs on points, DCGAN-style on images
        c = self.config
        G, F, D = inference_networks(self.data, self.latent_dim, c.hidden, c.depth, c.base_channels, c.d_depth,
                                     c.d_activation, d_base_channels=c.d_base_channels,
                                     d_joint_hidden=c.d_joint_hidden)
        return points_init({"G": G, "F": F, "D": D}, self.data, c.orthogonal_gain)

    def optimizers(self):
        c = self.config
        g = OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2))
        return {"G": g, "F": g, "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2))}

    def phases(self):  # one D step, then one joint step of G and F
        return [Phase("discriminator", self.discriminator_step, updates=("D",)),
                Phase("generator", self.generator_step, updates=("G", "F"))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        z = ctx.latent(len(batch), self.latent_dim)
        generated = nets.D(nets.G(z), z)  # (z, G(z)): label 1
        # z_g ~ p_θ(z|x) = N(F(x), σ²I) (Algorithm 1, line 6)
        z_g = nets.F(batch.real) + self.config.reconstructor_noise * ctx.latent(len(batch), self.latent_dim)
        reconstructed = nets.D(batch.real, z_g)  # (z_g, x): label 0
        loss = losses.bce_discriminator(generated, reconstructed)
        # for the diagnostics, "real" is the data's pair: D's logit there is the negated log ratio
        return PhaseResult(loss, d_real=-reconstructed, d_fake=-generated)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        z = ctx.latent(len(batch), self.latent_dim)
        x = nets.G(z)
        generated = nets.D(x, z)
        # d(z, G(z)) = −log N(z; F(G(z)), I) + const = ½‖z − F(G(z))‖²
        reconstruction = 0.5 * (z - nets.F(x).float()).pow(2).sum(dim=1).mean()
        kl = generated.float().mean()
        return PhaseResult(kl + self.config.reconstruction_weight * reconstruction,
                           logs={"kl_estimate": kl, "reconstruction": reconstruction}, d_fake=-generated)

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.latent_dim))


__doc__ = VEEGAN.spec.with_deviations(__doc__)

