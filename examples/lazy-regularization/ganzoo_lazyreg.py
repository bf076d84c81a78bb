"""A StyleGAN2-style GAN on 2-D points: lazy R1 every 16 D steps, path-length regularization every 4 G steps.

Karras et al. 2020, Analyzing and Improving the Image Quality of StyleGAN (arXiv 1912.04958): G is a
mapping network z → w followed by a synthesis network w → x; D is an MLP. Loss: the non-saturating
GAN loss; D is regularized by R1 (γ/2·E‖∇D(x)‖² on real data) and G by the path-length penalty
E[(‖J_wᵀ y‖ − a)²], a the moving average of the lengths. Update rule (Appendix B, "lazy
regularization"): both regularizers run in phases of their own, R1 every 16 iterations and the
path-length penalty every 4, each weighted by its interval, with Adam's lr and betas corrected by
c/(c+1) (``OptimizerSpec(lazy_interval=c)``).

A worked example of plugin contract v3, written only against ``ganzoo.harness.plugin``:

- interval phases: ``Phase(..., every=16)`` with ``ctx.interval`` as the lazy weight;
- a generator-side penalty through the step context: ``ctx.path_length_penalty(points, w)``, whose
  moving average ``pl_mean`` lives in the plugin state (identical on every process, checkpointed);
- a plugin that computes its own R1 and therefore refuses the harness's (``unsupported_tricks``).

Register it from a distribution's pyproject.toml (the tests install it this way)::

    [project.entry-points."ganzoo.models"]
    lazyreg = "ganzoo_lazyreg:LazyRegGAN"

then ``ganzoo check lazyreg`` and ``ganzoo run lazyreg``.
"""

from __future__ import annotations

from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelConfig, ModelSpec, Networks,
                                   OptimizerSpec, Phase, PhaseResult, StepContext, losses)


def mlp(width_in: int, hidden: int, depth: int, width_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width_in, hidden), nn.LeakyReLU(0.2)]
        width_in = hidden
    return nn.Sequential(*layers, nn.Linear(width_in, width_out))


class StyleGenerator(nn.Module):
    """z → w (mapping) → x (synthesis); ``synthesis`` is called on its own by the path-length phase."""

    def __init__(self, latent_dim: int, w_dim: int, hidden: int, depth: int, dim: int) -> None:
        super().__init__()
        self.mapping = mlp(latent_dim, hidden, 2, w_dim)
        self.synthesis = mlp(w_dim, hidden, depth, dim)

    def forward(self, z: Tensor) -> Tensor:
        return self.synthesis(self.mapping(z))


class Discriminator(nn.Module):
    def __init__(self, dim: int, hidden: int, depth: int, pack: int) -> None:
        super().__init__()
        self.net = mlp(dim * pack, hidden, depth, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)


class LazyRegConfig(ModelConfig):
    latent_dim: int = Field(8, ge=1, le=512, description="Size of z")
    w_dim: int = Field(8, ge=1, le=512, description="Size of the intermediate latent w")
    hidden: int = Field(64, ge=4, le=4096, description="Width of the hidden layers")
    depth: int = Field(3, ge=1, le=16, description="Hidden layers of the synthesis network and of D")
    r1_gamma: float = Field(1.0, ge=0, description="R1 weight γ (the penalty is γ/2·E‖∇D(x)‖²)")
    r1_every: int = Field(16, ge=1, le=1000, description="R1 every this many iterations (StyleGAN2: 16)")
    pl_weight: float = Field(2.0, ge=0, description="Path-length penalty weight (StyleGAN2: 2)")
    pl_every: int = Field(4, ge=1, le=1000, description="Path-length penalty every this many iterations (StyleGAN2: 4)")
    pl_decay: float = Field(0.01, gt=0, le=1, description="Decay of the path-length moving average a (StyleGAN2: 0.01)")
    lr: float = Field(2e-3, gt=0, le=1, description="Adam learning rate of G and D before the lazy correction")
    beta1: float = Field(0.0, ge=0, lt=1, description="Adam β₁ (StyleGAN2: 0)")
    beta2: float = Field(0.99, ge=0, lt=1, description="Adam β₂ (StyleGAN2: 0.99)")


class LazyRegGAN(GANPlugin):
    spec = ModelSpec(
        name="lazyreg",
        title="Lazy R1 + path-length regularization (StyleGAN2-style, 2-D points)",
        paper="Karras et al. 2020, Analyzing and Improving the Image Quality of StyleGAN",
        arxiv="1912.04958",
        family=Family.minimax,
        data_kinds=[DataKind.points2d],
        default_dataset="ring",
        deviations=("MLPs on 2-D points instead of StyleGAN2's convolutional synthesis network with modulated "
                    "convolutions; the path-length noise y is N(0, I) (no 1/√(H·W) for points).",),
    )
    Config = LazyRegConfig
    config: LazyRegConfig
    #: it computes its own R1 (phase "D_reg"); the harness's would apply a second one
    unsupported_tricks = {"r1_gamma": "lazyreg applies its own lazy R1 (config r1_gamma, r1_every)"}
    presets = {"lazyreg/check": {"dataset": "ring", "params": {"hidden": 16, "depth": 2}}}

    def build(self) -> dict[str, nn.Module]:
        c, dim = self.config, self.data.shape[0]
        return {"G": StyleGenerator(c.latent_dim, c.w_dim, c.hidden, c.depth, dim),
                "D": Discriminator(dim, c.hidden, c.depth, self.data.pack)}

    def optimizers(self) -> dict[str, OptimizerSpec]:
        c = self.config
        return {"G": OptimizerSpec(lr=c.lr, betas=(c.beta1, c.beta2), lazy_interval=c.pl_every),
                "D": OptimizerSpec(lr=c.lr, betas=(c.beta1, c.beta2), lazy_interval=c.r1_every)}

    def initial_state(self) -> dict[str, float]:
        return {"pl_mean": 0.0}  # a, the path-length moving average: the harness keeps it

    def phases(self) -> list[Phase]:
        c = self.config
        return [Phase("D", self.d_main, updates=("D",)),
                Phase("D_reg", self.d_reg, updates=("D",), every=c.r1_every),
                Phase("G", self.g_main, updates=("G",)),
                Phase("G_pl", self.g_pl, updates=("G",), every=c.pl_every)]

    def sample(self, nets: Networks, ctx, n: int, labels: Tensor | None = None) -> Tensor:
        return nets.G(ctx.latent(n, self.config.latent_dim))

    # -- the four phases ------------------------------------------------------------------------------
    def d_main(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake = self.sample(nets, ctx, len(batch)).detach()
        real_out, fake_out = nets.D(batch.real), nets.D(fake)
        return PhaseResult(losses.bce_discriminator(real_out, fake_out, ctx.real_target),
                           d_real=real_out, d_fake=fake_out)

    def d_reg(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        r1 = ctx.r1_penalty(nets.D, batch.real)
        return PhaseResult(0.5 * self.config.r1_gamma * ctx.interval * r1, logs={"r1": r1})

    def g_main(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake_out = nets.D(self.sample(nets, ctx, len(batch)))
        return PhaseResult(losses.bce_generator_nonsaturating(fake_out), d_fake=fake_out)

    def g_pl(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        c = self.config
        w = nets.G.mapping(ctx.latent(len(batch), c.latent_dim))
        points = nets.G.synthesis(w)
        penalty = ctx.path_length_penalty(points, w, key="pl_mean", decay=c.pl_decay)
        return PhaseResult(c.pl_weight * ctx.interval * penalty, logs={"pl_penalty": penalty},
                           diagnostics={"pl_mean": ctx.state["pl_mean"]})


__doc__ = LazyRegGAN.spec.with_deviations(__doc__)
