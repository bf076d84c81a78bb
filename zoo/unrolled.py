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
5 and 10). The unrolled steps are D's own update: its Adam, continued from its current moments
(``unroll_optimizer="d_optimizer"``, as the authors' code does through Keras's update ops).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor
from torch.func import functional_call

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelSpec, Networks, OptimizerState, Phase,
                                   PhaseResult, StepContext, losses)
from ganzoo.zoo.image import ARCHITECTURE_TRICKS, adam
from ganzoo.zoo.points_or_images import (PointsOrImagesConfig, latent_size, points_init, points_or_image_discriminator,
                                         points_or_image_generator)


class UnrolledConfig(PointsOrImagesConfig):
    generator_loss: Literal["minimax", "non_saturating"] = Field("minimax", description=(
        "G's loss at the unrolled D: 'minimax' is the paper's f_K = E log D_K(x) + E log(1 − D_K(G(z))) (both "
        "terms, eq. 5–7); 'non_saturating' is −E log D_K(G(z)) (a deviation: drops the real term)"))
    unroll_steps: int = Field(5, ge=0, le=50, description="K, the unrolled D steps in G's loss (paper: 5, 10)")
    unroll_optimizer: Literal["sgd", "adam", "d_optimizer"] = Field("sgd", description=(
        "The functional update of the unrolled steps: plain gradient steps of unroll_lr; 'adam', Adam at "
        "unroll_lr from zero moments; 'd_optimizer', D's own Adam continued from its current moments, "
        "step count, learning rate, β and ε (the authors' code; unroll_lr is then unused)"))
    unroll_lr: float = Field(1e-2, gt=0, le=10, description=(
        "η, the step size of the 'sgd' and 'adam' unrolled steps (the paper unrolls with D's own Adam at 1e-4: "
        "unroll_optimizer='d_optimizer')"))
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
                        betas: tuple[float, float] = (0.5, 0.999), eps: float = 1e-4,
                        continued: Mapping[str, OptimizerState] | None = None) -> dict[str, Tensor]:
    """θ_D^K: ``steps`` functional D updates on the GAN loss, differentiable w.r.t. ``fake`` (and so G).

    ``params`` are leaves detached from the real D; the real D and its buffers are never written.
    Adam from zero moments (``optimizer="adam"``) takes first steps ≈ η·g/|g|, whose derivative is ≈ η/ε
    where a gradient vanishes (dead ReLUs): ε = 1e-4, not Adam's usual 1e-8, keeps that bounded.
    ``continued`` (``optimizer="d_optimizer"``): per parameter, D's real Adam state (``ctx.optimizer_state``);
    the steps continue its moments and step count with its learning rate, β and ε, as torch.optim.Adam
    would, except that √v̂ + ε is taken as √(v̂ + ε²) so the derivative stays finite where v̂ = 0.
    """
    def d_loss(p: dict[str, Tensor], b: dict[str, Tensor]) -> Tensor:  # b: copies of D's buffers (BN statistics)
        real_logits = functional_call(D, (p, b), (real,))
        fake_logits = functional_call(D, (p, b), (fake,))
        return losses.bce_discriminator(at_least_float32(real_logits), at_least_float32(fake_logits), real_target)

    # torch.func.grad's result stays differentiable w.r.t. what d_loss captures (fake, hence G) and
    # w.r.t. the incoming parameters: the create_graph=True of eq. 7's second-order term.
    d_grad = torch.func.grad(d_loss)
    if optimizer == "d_optimizer":
        if continued is None:
            raise ValueError("unroll_optimizer='d_optimizer' needs D's optimizer state (ctx.optimizer_state(D))")
        adam = {n: adam_settings(n, continued.get(n), params[n]) for n in params}
    else:
        adam = {n: (torch.zeros_like(p), torch.zeros_like(p), 0, lr, betas, eps) for n, p in params.items()}
    m = {n: a[0] for n, a in adam.items()}
    v = {n: a[1] for n, a in adam.items()}
    for k in range(steps):
        grads = d_grad(params, buffers)
        new = {}
        for n, g in grads.items():
            if optimizer == "sgd":
                new[n] = params[n] - lr * g
                continue
            _, _, done, rate, (beta1, beta2), epsilon = adam[n]
            t = done + k + 1
            m[n] = beta1 * m[n] + (1 - beta1) * g
            v[n] = beta2 * v[n] + (1 - beta2) * g * g
            m_hat, v_hat = m[n] / (1 - beta1 ** t), v[n] / (1 - beta2 ** t)
            new[n] = params[n] - rate * m_hat / (v_hat + epsilon ** 2).sqrt()
        params = new
    return params


def adam_settings(name: str, state: OptimizerState | None, param: Tensor):
    """(m, v, steps taken, lr, β, ε) of D's real Adam for one parameter, its moments zero before its first step."""
    if state is None or state.kind != "adam":
        raise ValueError(f"unroll_optimizer='d_optimizer' continues D's Adam, but D's parameter {name!r} is "
                         f"{'not stepped by any optimizer' if state is None else 'stepped by ' + state.kind}: "
                         "give D an Adam optimizer, or unroll with 'adam' or 'sgd'")
    zeros = torch.zeros_like(param)
    m = zeros if state.exp_avg is None else state.exp_avg.to(param.dtype)
    v = zeros if state.exp_avg_sq is None else state.exp_avg_sq.to(param.dtype)
    return m, v, state.step, state.lr, state.betas, state.eps


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
            "The unrolled D steps are, by default, gradient steps of size unroll_lr (1e-2); the authors unroll "
            "with D's own Adam continuing from its current moments (unroll_optimizer=\"d_optimizer\", which "
            "takes √v̂ + ε as √(v̂ + ε²) so its derivative stays finite). Option unroll_optimizer=\"adam\": Adam "
            "from zero moments with ε 1e-4 (with ε 1e-8 G diverged on the ring: the derivative through a "
            "vanishing gradient is η/ε).",
            "The real D and G steps run one after the other (D first); the authors' notebook runs both update ops "
            "in one session call, with no order between them.",
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
        continued = ctx.optimizer_state(nets.D) if c.unroll_optimizer == "d_optimizer" else None
        unrolled = unrolled_parameters(nets.D, params, buffers, batch.real, fake, c.unroll_steps, c.unroll_lr,
                                       c.unroll_optimizer, ctx.real_target, (c.beta1, c.beta2), continued=continued)
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

