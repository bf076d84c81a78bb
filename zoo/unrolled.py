"""Unrolled Generative Adversarial Networks — Metz et al. 2017 (arXiv 1611.02163).

Architecture, chosen from the data: on 2-D points, MLP generator and discriminator (§3.1 and
Appendix A: the mixture of Gaussians); on images, the DCGAN networks of ``zoo.blocks``.
Loss: D minimises the GAN cross-entropy −E[log D(x)] − E[log(1 − D(G(z)))], i.e. maximises
f(θ_G, θ_D) = E[log D(x)] + E[log(1 − D(G(z)))]. G minimises the *surrogate* objective
f_K(θ_G, θ_D) = f(θ_G, θ_D^K) (eq. 5–6), where θ_D^0 = θ_D and θ_D^{k+1} = θ_D^k + η·∂f/∂θ_D(θ_G, θ_D^k):
G is judged by the discriminator K optimisation steps ahead, and its gradient flows through those
steps (the second-order term of eq. 7 that lets G anticipate how D reacts). Both terms of f_K count:
E[log D_K(x)] depends on θ_G through θ_D^K, so G is also rewarded for the real-data loss it makes the
unrolled D suffer. With K = 0 it is the ordinary minimax GAN (the real term is then constant in θ_G).
Update rule: one ordinary D step (the real D never takes the unrolled steps: they happen on a
functional copy of its parameters, ``torch.func.functional_call``), then one G step on the
surrogate loss, both with Adam (α = 1e-4, β₁ = 0.5). K = ``unroll_steps`` (the paper's mixtures:
5 and 10).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor
from torch.func import functional_call

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, Phase, PhaseResult,
                                   StepContext, losses)
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, adam
from ganzoo.zoo.points_or_images import (PointsOrImagesConfig, latent_size, points_init, points_or_image_discriminator,
                                         points_or_image_generator)


class UnrolledConfig(PointsOrImagesConfig):
    generator_loss: Literal["minimax", "non_saturating"] = Field("minimax", description=(
        "G's loss at the unrolled D: 'minimax' is the paper's f_K = E log D_K(x) + E log(1 − D_K(G(z))) (both "
        "terms, eq. 5–7); 'non_saturating' is −E log D_K(G(z)) (a deviation: drops the real term)"))
    unroll_steps: int = Field(5, ge=0, le=50, description="K, the unrolled D steps in G's loss (paper: 5, 10)")
    unroll_optimizer: Literal["sgd", "adam"] = Field("sgd", description=(
        "The functional update of the unrolled steps: plain gradient steps, or Adam from zero moments"))
    unroll_lr: float = Field(1e-2, gt=0, le=10, description=(
        "η, the step size of the unrolled D steps (the paper unrolls with D's own Adam at 1e-4)"))
    lr_g: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of G (paper: 1e-4)")
    lr_d: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of D (paper: 1e-4)")
    d_base_channels: int | None = Field(None, ge=1, le=1024, description=(
        "Images: width of D's first layer (default base_channels); the paper's Stacked MNIST experiment "
        "gives D ½ or ¼ of G's size"))


def at_least_float32(t: Tensor) -> Tensor:
    """Half-precision logits go up to float32 for the loss; float64 stays float64 (the gradient checks)."""
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def unrolled_parameters(D, params: dict[str, Tensor], buffers: dict[str, Tensor], real: Tensor, fake: Tensor,
                        steps: int, lr: float, optimizer: str = "sgd", real_target: float = 1.0,
                        betas: tuple[float, float] = (0.5, 0.999), eps: float = 1e-4) -> dict[str, Tensor]:
    """θ_D^K: ``steps`` functional D updates on the GAN loss, differentiable w.r.t. ``fake`` (and so G).

    ``params`` are leaves detached from the real D; the real D and its buffers are never written.
    Adam here starts from zero moments, so its first steps are ≈ η·g/|g|, whose derivative is ≈ η/ε
    where a gradient vanishes (dead ReLUs): ε = 1e-4, not Adam's usual 1e-8, keeps that bounded.
    """
    def d_loss(p: dict[str, Tensor], b: dict[str, Tensor]) -> Tensor:  # b: copies of D's buffers (BN statistics)
        real_logits = functional_call(D, (p, b), (real,))
        fake_logits = functional_call(D, (p, b), (fake,))
        return losses.bce_discriminator(at_least_float32(real_logits), at_least_float32(fake_logits), real_target)

    # torch.func.grad's result stays differentiable w.r.t. what d_loss captures (fake, hence G) and
    # w.r.t. the incoming parameters: the create_graph=True of eq. 7's second-order term.
    d_grad = torch.func.grad(d_loss)
    m = {n: torch.zeros_like(p) for n, p in params.items()}
    v = {n: torch.zeros_like(p) for n, p in params.items()}
    for k in range(steps):
        grads = d_grad(params, buffers)
        new = {}
        for n, g in grads.items():
            if optimizer == "adam":
                m[n] = betas[0] * m[n] + (1 - betas[0]) * g
                v[n] = betas[1] * v[n] + (1 - betas[1]) * g * g
                m_hat, v_hat = m[n] / (1 - betas[0] ** (k + 1)), v[n] / (1 - betas[1] ** (k + 1))
                new[n] = params[n] - lr * m_hat / (v_hat + eps ** 2).sqrt()
            else:
                new[n] = params[n] - lr * g
        params = new
    return params


class Unrolled(GANPlugin):
    spec = ModelSpec(
        name="unrolled",
        title="Unrolled GAN",
        paper="Metz, Poole, Pfau & Sohl-Dickstein 2017, Unrolled Generative Adversarial Networks",
        arxiv="1611.02163",
        family=Family.minimax,
        data_kinds=[DataKind.points2d, DataKind.images],
        default_dataset="ring",
        deviations=(
            "Option generator_loss=\"non_saturating\" (not the default): G minimises −E log D_K(G(z)) and drops the "
            "real term E log D_K(x) of the paper's f_K (eq. 5–7), which depends on G through the unrolled D. The "
            "paper and the authors' code (G minimises −unrolled_loss, both terms) use f_K.",
            "With one-sided label smoothing (train.real_target < 1) G's f_K is minus D's smoothed loss at θ_D^K.",
            "The unrolled D steps are gradient steps of size unroll_lr (default 1e-2), or with "
            "unroll_optimizer=adam a functional Adam from zero moments with ε 1e-4; the authors unroll with Adam "
            "continuing from the real D optimizer's moments, which the harness owns and does not show a plugin. "
            "(Adam from zero moments with ε 1e-8 made G diverge on the ring: its derivative through a vanishing "
            "gradient is η/ε.)",
            "Every unrolled step reuses the G step's real batch and noise (eq. 6 leaves the batch open; the "
            "authors' code does the same).",
            "Points: MLPs of 3 × 128 units (ReLU G, LeakyReLU(0.2) D), z ∈ R²; Appendix A: 2 × 128 ReLU G, 1 × 128 "
            "ReLU D, 256-d z, batch 512.",
            "Points: PyTorch's default initialisation unless orthogonal_gain is set; the authors' notebook "
            "initialises every layer orthogonally with gain 1.4, as the *-veegan-protocol presets do.",
            "Points: the ring/grid presets use 2 × 128 MLPs, Adam 2e-3, SGD unrolling with η 0.005 and a generator "
            "EMA (0.99); the paper uses Adam 1e-4 and no EMA.",
            "Under data parallelism each process unrolls D on its own share of the batch (the unrolled gradients are "
            "not averaged across processes; the real steps are).",
            "Under fp16 the unrolled D loss is taken in float32 but its gradients are not loss-scaled.",
        ),
    )
    Config = UnrolledConfig
    config: UnrolledConfig
    architecture_tricks = ARCHITECTURE_TRICKS

    @property
    def latent_dim(self) -> int:  # 2 on points, 100 on images unless configured
        return latent_size(self.data, self.config.latent_dim)

    def build(self):  # MLPs on points, the DCGAN family on images (D d_base_channels wide); zoo.points_or_images
        nets = {"G": points_or_image_generator(self, self.latent_dim), "D": points_or_image_discriminator(self)}
        return points_init(nets, self.data, self.config.orthogonal_gain)

    def optimizers(self):
        return adam(self.config)

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",)),
                Phase("generator", self.generator_step, updates=("G",))]

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:  # the real D step
        fake = self.sample(nets, ctx, len(batch)).detach()
        real_logits, fake_logits = nets.D(batch.real), nets.D(fake)
        loss = losses.bce_discriminator(real_logits, fake_logits, ctx.real_target)  # −f(θ_G, θ_D)
        return PhaseResult(loss, d_real=real_logits, d_fake=fake_logits)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        c = self.config
        fake = self.sample(nets, ctx, len(batch))
        # A functional copy of D: fresh leaves (the real D is frozen in this phase and never written).
        params = {n: p.detach() for n, p in nets.D.named_parameters()}
        buffers = {n: b.detach().clone() for n, b in nets.D.named_buffers()}
        unrolled = unrolled_parameters(nets.D, params, buffers, batch.real, fake, c.unroll_steps, c.unroll_lr,
                                       c.unroll_optimizer, ctx.real_target, (c.beta1, c.beta2))
        fake_logits = functional_call(nets.D, (unrolled, buffers), (fake,))
        if c.generator_loss == "non_saturating":
            return PhaseResult(losses.bce_generator_nonsaturating(at_least_float32(fake_logits)), d_fake=fake_logits)
        # f_K = E log D_K(x) + E log(1 − D_K(G(z))) = −(D's loss at θ_D^K); G minimises it
        real_logits = functional_call(nets.D, (unrolled, buffers), (batch.real,))
        surrogate = -losses.bce_discriminator(at_least_float32(real_logits), at_least_float32(fake_logits),
                                              ctx.real_target)
        return PhaseResult(surrogate, d_fake=fake_logits)

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.latent_dim))


__doc__ = Unrolled.spec.with_deviations(__doc__)

