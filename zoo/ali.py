"""Adversarially Learned Inference (ALI) — Dumoulin et al. 2016 (arXiv 1606.00704); the same model
as BiGAN — Donahue, Krähenbühl & Darrell 2016 (arXiv 1605.09782).

Architecture: a generator (decoder) G: z → x, an encoder E: x → z, and a discriminator on
*joint* pairs D(x, z): MLPs on 2-D points (the pair concatenated at D's input); on images the
DCGAN generator, an encoder made of D's strided convolutions, and a D that joins its convolutional
features of x with a linear layer on z (BiGAN's joint discriminator).
Loss: D tells the encoder's pairs (x, E(x)), x ~ data, from the generator's pairs (G(z), z),
z ~ N(0, I): −E[log D(x, E(x))] − E[log(1 − D(G(z), z))] (ALI eq. 1–2). G and E play the game
together with the labels swapped (the non-saturating form the ALI authors train with):
−E[log D(G(z), z)] − E[log(1 − D(x, E(x)))]. At the optimum the two joint distributions match, so
E inverts G.
Update rule: one D step, then one joint step of G and E, Adam (α = 1e-4, β₁ = 0.5 in ALI; the
mixture presets use 1e-3).
"""

from __future__ import annotations

from pydantic import Field

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, OptimizerSpec, Phase,
                                   PhaseResult, StepContext, losses)
from ganzoo.zoo.points_or_images import (JOINT_D_REFUSES_R1, InferenceConfig, inference_networks, latent_size,
                                         points_init)


class ALIConfig(InferenceConfig):
    lr_g: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of G and E (ALI: 1e-4)")
    lr_d: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of D (ALI: 1e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁ (ALI: 0.5)")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂ (ALI: 1e-3 … 0.999)")


class ALI(GANPlugin):
    spec = ModelSpec(
        name="ali",
        title="ALI / BiGAN",
        paper="Dumoulin et al. 2016, Adversarially Learned Inference; Donahue et al. 2016, Adversarial Feature "
              "Learning",
        arxiv="1606.00704",
        family=Family.minimax,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "E is deterministic (BiGAN's encoder); ALI's encoder is a reparameterised Gaussian.",
            "Points: G, E, D are MLPs of 3 × 128 units (ReLU in G and E, LeakyReLU(0.2) in D) and z ∈ R²; the "
            "mixture rows we compare with (VEEGAN Table 1) were run by the VEEGAN authors.",
            "Images: the zoo's DCGAN family (4×4 strided convolutions, batch norm, z of 100) instead of ALI's "
            "per-dataset networks (stochastic encoder, maxout and dropout in D); the Stacked MNIST rows we compare "
            "with (VEEGAN Table 2) were run by the VEEGAN authors with DCGAN-like networks.",
            "The ring/grid presets use Adam 1e-3 (β₁ 0.5), batch 256 and a generator EMA.",
        ),
    )
    Config = ALIConfig
    config: ALIConfig
    unsupported_tricks = JOINT_D_REFUSES_R1

    @property
    def latent_dim(self) -> int:  # 2 on points, 100 on images unless configured
        return latent_size(self.data, self.config.latent_dim)

    def build(self):  # G: z → x, the encoder E: x → z, D on (x, z) pairs: MLPs on points, DCGAN-style on images
        c = self.config
        G, E, D = inference_networks(self.data, self.latent_dim, c.hidden, c.depth, c.base_channels, c.d_depth,
                                     c.d_activation, d_base_channels=c.d_base_channels,
                                     d_joint_hidden=c.d_joint_hidden)
        return points_init({"G": G, "E": E, "D": D}, self.data, c.orthogonal_gain)

    def optimizers(self):
        c = self.config
        g = OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2))
        return {"G": g, "E": g, "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2))}

    def phases(self):  # one D step, then one joint step of G and E
        return [Phase("discriminator", self.discriminator_step, updates=("D",)),
                Phase("generator", self.generator_step, updates=("G", "E"))]

    def pairs(self, nets: Networks, batch: Batch, ctx: StepContext):
        """D's logits on the encoder's pairs (x, E(x)) and the generator's pairs (G(z), z)."""
        z = ctx.latent(len(batch), self.latent_dim)
        return nets.D(batch.real, nets.E(batch.real)), nets.D(nets.G(z), z)

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        encoder_logits, generator_logits = self.pairs(nets, batch, ctx)  # G and E are frozen in this phase
        loss = losses.bce_discriminator(encoder_logits, generator_logits, ctx.real_target)
        return PhaseResult(loss, d_real=encoder_logits, d_fake=generator_logits)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        encoder_logits, generator_logits = self.pairs(nets, batch, ctx)
        loss = losses.bce_discriminator(generator_logits, encoder_logits)  # the labels swapped
        return PhaseResult(loss, d_real=encoder_logits, d_fake=generator_logits)

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.latent_dim))


__doc__ = ALI.spec.with_deviations(__doc__)

