"""BEGAN: Boundary Equilibrium GAN — Berthelot, Schumm & Metz 2017 (arXiv 1703.10717).

Method (§3): D is an autoencoder, and the quantity both players fight over is its pixel-wise
reconstruction loss L(v) = |v − D(v)|₁ (η = 1, averaged here over pixels). Rather than matching
data to samples, BEGAN matches the *distributions of auto-encoder losses*, with the objective

    L_D = L(x) − k_t · L(G(z_D))        L_G = L(G(z_G))
    k_{t+1} = k_t + λ_k (γ L(x) − L(G(z_G))),  k clipped to [0, 1],

a proportional controller that keeps E[L(G(z))] = γ E[L(x)] (the *equilibrium*; γ ∈ [0, 1] is the
diversity ratio: lower γ, sharper but less diverse images). k_0 = 0, λ_k = 0.001 (§3.3). The
convergence measure M_global = L(x) + |γ L(x) − L(G(z_G))| (§3.4) falls as training converges, and
the learning rate is halved when it stalls (§4.1). Networks (§3.5, Figure 1): the encoder is
3×3 convolutions with ELUs, a stride-2 convolution per downsampling and channels growing
linearly (n, 2n, 3n, …), then a fully-connected layer to the embedding h; the decoder (and G,
which has the same architecture) maps h (or z) through a fully-connected layer to 8×8×n and then
3×3 convolutions with ELUs and nearest-neighbour upsampling. Adam, lr 1e-4 (β₁ 0.5 here).

Through the harness: k_t is plugin state (``initial_state``; checkpointed and bit-exact on resume)
updated in the discriminator phase's ``after_step``, from the step's losses averaged over the
data-parallel processes (``ctx.mean_over_processes``), so every replica holds the same k_t. D has
no scalar score (``scalar_scores = False``); M_global and k_t are reported as diagnostics
(summary.json, report.md), and ``OptimizerSpec.plateau`` halves both learning rates when
M_global has not reached a new minimum for ``plateau_patience`` iterations. Harness tricks that
act on D's input or assume a score (instance noise, DiffAugment, PacGAN, R1, label smoothing)
are refused: D must reconstruct the image it is given.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelConfig, ModelSpec, Networks,
                                   OptimizerSpec, Phase, PhaseResult, PlateauSpec, StepContext)
from ganzoo.zoo.blocks import ImageEncoder, ImageGenerator


class BEGANConfig(ModelConfig):
    latent_dim: int = Field(32, ge=1, le=4096, description="Size of z ~ U(−1, 1) (paper: 64)")
    hidden_dim: int = Field(32, ge=1, le=4096, description="Size of the autoencoder's embedding h (paper: 64)")
    channels: int = Field(32, ge=1, le=1024, description="n: convolution channels (grow n, 2n, 3n in the encoder)")
    convs: int = Field(2, ge=1, le=4, description="3×3 convolutions per resolution stage (paper: 2)")
    gamma: float = Field(0.5, ge=0, le=1, description="γ: the diversity ratio E[L(G(z))] / E[L(x)] to hold")
    lambda_k: float = Field(0.001, ge=0, description="λ_k: the controller's gain on k_t (paper: 0.001)")
    lr: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of G and D (paper: 1e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁")
    g_tanh: bool = Field(True, description=(
        "End G with tanh (samples in [−1, 1]); the paper's G has no output non-linearity (False)"))
    plateau_patience: int = Field(1000, ge=1, description=(
        "Iterations without a new minimum of M_global before both learning rates are halved"))
    m_smoothing: float = Field(0.99, ge=0, lt=1, description="EMA decay of the reported M_global")
    networks: Literal["paper", "dcgan"] = Field("paper", description=(
        "paper: §3.5's ELU networks (channels, convs); dcgan: the zoo's DCGAN family (batch norm, strided "
        "convolutions) for G and for D's encoder and decoder, base_channels wide"))
    base_channels: int = Field(32, ge=1, le=1024, description="networks=dcgan: width of the DCGAN-family networks")


def _conv_block(c_in: int, c_out: int, convs: int = 2) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for k in range(convs):
        layers += [nn.Conv2d(c_in if k == 0 else c_out, c_out, 3, 1, 1), nn.ELU(inplace=True)]
    return layers


class Decoder(nn.Module):
    """h or z → image: FC to 8×8×n, then [conv, conv, ×2 nearest upsampling] per stage, conv to C."""

    def __init__(self, in_dim: int, channels: int, out_channels: int, resolution: int, tanh: bool,
                 convs: int = 2) -> None:
        super().__init__()
        self.n = channels
        self.fc = nn.Linear(in_dim, 8 * 8 * channels)
        layers: list[nn.Module] = []
        size = 8
        while size < resolution:
            layers += [*_conv_block(channels, channels, convs), nn.Upsample(scale_factor=2, mode="nearest")]
            size *= 2
        layers += [*_conv_block(channels, channels, convs), nn.Conv2d(channels, out_channels, 3, 1, 1)]
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, h: Tensor) -> Tensor:
        return self.net(self.fc(h).view(-1, self.n, 8, 8))


class Encoder(nn.Module):
    """Image → h: conv, then [conv, conv, stride-2 conv growing channels] per stage, FC to h."""

    def __init__(self, in_channels: int, channels: int, hidden_dim: int, resolution: int, convs: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 3, 1, 1), nn.ELU(inplace=True)]
        size, width = resolution, channels
        while size > 8:
            wider = width + channels
            layers += [*_conv_block(width, width, convs), nn.Conv2d(width, wider, 3, 2, 1), nn.ELU(inplace=True)]
            size, width = size // 2, wider
        layers += _conv_block(width, width, convs)
        self.net = nn.Sequential(*layers)
        self.fc = nn.Linear(width * 8 * 8, hidden_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.net(x).flatten(1))


class AutoencoderD(nn.Module):
    """BEGAN's discriminator: D(v) is the reconstruction of v (the paper's networks, or any encoder/decoder)."""

    def __init__(self, channels: int, n: int, hidden_dim: int, resolution: int, convs: int = 2, *,
                 encoder: nn.Module | None = None, decoder: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder = encoder or Encoder(channels, n, hidden_dim, resolution, convs)
        self.decoder = decoder or Decoder(hidden_dim, n, channels, resolution, tanh=False, convs=convs)

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))


def reconstruction_loss(D: nn.Module, v: Tensor) -> Tensor:
    """L(v) = |v − D(v)|₁, averaged over pixels and the batch (η = 1)."""
    return (D(v).float() - v.float()).abs().mean()


class BEGAN(GANPlugin):
    spec = ModelSpec(
        name="began",
        title="BEGAN (boundary equilibrium)",
        paper="Berthelot, Schumm & Metz 2017, BEGAN: Boundary Equilibrium Generative Adversarial Networks",
        arxiv="1703.10717",
        family=Family.other,
        data_kinds=[DataKind.images],
        default_dataset="mnist",
        deviations=(
            "k_t is updated after the D step from that step's L(x) and L(G(z_D)) (the same G, other noise), not "
            "from the G step's "

            "L(G(z_G)); both are measured before G moves.",
            "The M_global diagnostic (and the plateau schedule) is an EMA (0.99) of the per-step measure, "
            "which is logged as M_global_step.",
            "G ends with tanh so samples stay in [−1, 1] (g_tanh=false drops it); the paper's G has no output "
            "non-linearity.",
            "networks=dcgan (the MNIST preset) swaps §3.5's ELU networks for the zoo's batch-norm DCGAN family: G is "
            "the DCGAN generator, D's encoder its strided convolutions and D's decoder another DCGAN generator "
            "(h → image). With the paper's networks at a CPU budget (n = 16–32, one or two convolutions per stage, "
            "a few thousand iterations) G settled on near-blank images, one class, in every setting tried "
            "(docs/zoo.md).",
            "The MNIST preset uses 32×32, base width 32, h = z = 32 (paper: 64, which drew all ten digits on 4 of 6 "
            "seeds against the preset's 6 of 10), γ = 1 (the paper shows 0.3–0.7; on MNIST with these networks 0.5 "
            "drew 4 digit classes and 0.7 nine), batch 32, bf16, 3,000 iterations and lr 2e-4 (paper: 1e-4; at "
            "1e-4 the one seed tried drew a single class) on a CPU budget; the paper trains on CelebA at 64–128 px, "
            "n = 64–128, batch 16.",
        ),
    )
    Config = BEGANConfig
    config: BEGANConfig
    scalar_scores = False  # D reconstructs images: there is no per-sample score to derive diagnostics from
    _input_reason = "BEGAN's D is an autoencoder that must reconstruct exactly the image it is given"
    unsupported_tricks = {
        "instance_noise": _input_reason, "diffaugment": _input_reason,
        "pack": "the autoencoder reconstructs single images; a packed input has no reconstruction loss per sample",
        "r1_gamma": "R1 penalises the gradient of a scalar score; BEGAN's D outputs an image",
        "label_smoothing": "BEGAN has no real/fake targets to smooth (its losses are reconstruction errors)",
    }

    def build(self):
        c, data = self.config, self.data
        if data.resolution < 8 or data.resolution & (data.resolution - 1):
            raise ValueError(f"BEGAN's networks need a power-of-two resolution ≥ 8, got {data.resolution}")
        if c.networks == "dcgan":  # batch-norm DCGAN family: G, and D = its strided encoder + a G-shaped decoder
            b = c.base_channels
            return {"G": ImageGenerator(c.latent_dim, data.channels, data.resolution, b),
                    "D": AutoencoderD(data.channels, b, c.hidden_dim, data.resolution,
                                      encoder=ImageEncoder(data.channels, data.resolution, b, c.hidden_dim),
                                      decoder=ImageGenerator(c.hidden_dim, data.channels, data.resolution, b))}
        return {"G": Decoder(c.latent_dim, c.channels, data.channels, data.resolution, tanh=c.g_tanh, convs=c.convs),
                "D": AutoencoderD(data.channels, c.channels, c.hidden_dim, data.resolution, c.convs)}

    def optimizers(self):
        c = self.config
        plateau = PlateauSpec(diagnostic="M_global", factor=0.5, patience=c.plateau_patience)
        return {name: OptimizerSpec(kind="adam", lr=c.lr, betas=(c.beta1, 0.999), plateau=plateau)
                for name in ("G", "D")}

    def initial_state(self):
        return {"k": 0.0, "M_global": -1.0}  # k_0 = 0; M_global's average starts at the first measure

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.uniform(n, self.config.latent_dim))

    # -- the updates ------------------------------------------------------------------------------
    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch)).detach()
        loss_real = reconstruction_loss(nets.D, batch.real)
        loss_fake = reconstruction_loss(nets.D, fake)
        k = ctx.state["k"]
        m_step = loss_real.detach() + (self.config.gamma * loss_real.detach() - loss_fake.detach()).abs()
        return PhaseResult(loss_real - k * loss_fake,
                           logs={"L_real": loss_real, "L_fake": loss_fake, "M_global_step": m_step},
                           diagnostics={"k_t": k, "M_global": self._smoothed(ctx, m_step)})

    def _smoothed(self, ctx: StepContext, m_step: Tensor) -> Tensor:
        previous = ctx.state["M_global"]
        decay = self.config.m_smoothing
        return torch.where(previous < 0, m_step, decay * previous + (1 - decay) * m_step)

    def update_controller(self, nets: Networks, result: PhaseResult, ctx: StepContext) -> None:
        """After an applied D step: k_{t+1} = clip(k_t + λ_k (γ L(x) − L(G(z))), 0, 1), from losses averaged
        over the processes so every replica's k_t stays identical; and the M_global average."""
        losses = ctx.mean_over_processes(torch.stack([result.logs["L_real"].detach(),
                                                      result.logs["L_fake"].detach()]).float())
        loss_real, loss_fake = losses[0], losses[1]
        balance = self.config.gamma * loss_real - loss_fake
        ctx.state["k"] = (ctx.state["k"] + self.config.lambda_k * balance).clamp(0.0, 1.0)
        ctx.state["M_global"] = self._smoothed(ctx, loss_real + balance.abs())

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        return PhaseResult(reconstruction_loss(nets.D, self.sample(nets, ctx, len(batch))))

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",), after_step=self.update_controller),
                Phase("generator", self.generator_step, updates=("G",))]


__doc__ = BEGAN.spec.with_deviations(__doc__)
