"""CycleGAN — Zhu, Park, Isola & Efros 2017 (arXiv 1703.10593): unpaired image-to-image translation.

Two generators G_ab: A → B and G_ba: B → A, two discriminators D_a (real A vs G_ba(b)) and D_b
(real B vs G_ab(a)). Nothing pairs an image of A with one of B; cycle consistency makes the
translation keep the content: G_ba(G_ab(a)) ≈ a and G_ab(G_ba(b)) ≈ b.

Architecture (§4, appendix §7.2): ResNet generators ``c7s1-64, d128, d256, R256×n, u128, u64,
c7s1-3`` (n = 9 at 256×256, 6 at 128×128; we scale down further for digits) with instance norm and
reflection padding; 70×70 PatchGAN discriminators (``zoo.translation_blocks``); weights ~ N(0, 0.02).

Objective (eq. 3 with §4 "Training details"): least-squares adversarial losses (Mao et al. 2017),
G minimises E[(D_b(G_ab(a)) − 1)²] + E[(D_a(G_ba(b)) − 1)²]; each D minimises
½(E[(D(real) − 1)²] + E[D(fake)²]) (the ½ "slows down the rate at which D learns relative to G");
cycle consistency λ·(‖G_ba(G_ab(a)) − a‖₁ + ‖G_ab(G_ba(b)) − b‖₁) with λ = 10 (eq. 2); the identity
loss of §5.2 (Taigman et al. 2017), 0.5·λ·(‖G_ab(b) − b‖₁ + ‖G_ba(a) − a‖₁), which keeps colours
and does nothing when the input is already of the target domain.

Update rule: both generators in one step, then both discriminators, which judge a history of 50
generated images (Shrivastava et al. 2017) instead of the latest ones. Adam (2e-4, β = (0.5, 0.999));
the learning rate is constant for the first half of training and decays linearly to zero over
the second (declared with ``OptimizerSpec(decay="linear")``; the harness runs the schedule).

Batches: ``batch.real`` holds domain A, ``batch.real_b`` domain B (``DataKind.unpaired_images``).
The D step draws its own batch (the harness gives every phase a fresh one) and translates it with
the just-updated generators.

Sampling: a CycleGAN has no noise input. :meth:`CycleGAN.translate` maps given images either way.
:meth:`CycleGAN.sample`, which the harness's sample grids call, returns the A → B translations of
real domain-A *exemplars* that the run stores from its first training batches (a buffer, saved in
every checkpoint; the seed picks which), so ``ganzoo sample`` on a CycleGAN run shows what G_ab does
to real inputs. Before the first training batch there are none, and it translates noise images.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, DataKind, Family, GANPlugin, ModelConfig, ModelSpec, Networks,
                                   OptimizerSpec, Phase, PhaseResult, StepContext, losses)

from .translation_blocks import (ImagePool, PatchDiscriminator, ResnetGenerator, default_blocks,
                                 default_patch_layers)

Direction = Literal["a2b", "b2a"]


class CycleGANConfig(ModelConfig):
    g_channels: int = Field(64, ge=1, le=1024, description=(
        "k of the generators' c7s1-k, d2k, d4k, R4k, u2k, uk layers (paper: 64)"))
    d_channels: int = Field(64, ge=1, le=1024, description=(
        "Width of the PatchGAN's first layer, doubled per layer up to 8× (paper: 64)"))
    n_blocks: int | None = Field(None, ge=0, le=64, description=(
        "Residual blocks per generator; None: 9 at ≥256 px, 6 at ≥128 px (paper), 3 below"))
    d_layers: int | None = Field(None, ge=1, le=8, description=(
        "Stride-2 layers of the PatchGAN; None: 3 (70×70 patches, paper) at ≥128 px, 2 (34×34) at ≥64, 1 (16×16) below"))
    lambda_cycle: float = Field(10.0, ge=0, le=1000, description="λ, weight of the cycle-consistency L1 loss (paper: 10)")
    lambda_identity: float = Field(0.5, ge=0, le=100, description=(
        "Identity-loss weight as a multiple of λ: ‖G_ab(b) − b‖₁ + ‖G_ba(a) − a‖₁ weighted 0.5·λ (paper §5.2); 0 disables"))
    pool_size: int = Field(50, ge=0, le=10_000, description=(
        "Generated images per domain kept in the history pool D is trained on (paper: 50; 0: latest only)"))
    lr_g: float = Field(2e-4, gt=0, le=1, description="Adam learning rate of both generators (paper: 2e-4)")
    lr_d: float = Field(2e-4, gt=0, le=1, description="Adam learning rate of both discriminators (paper: 2e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁ (paper: 0.5)")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂ (paper: 0.999)")
    decay_start: float = Field(0.5, ge=0, lt=1, description=(
        "Fraction of the run after which the learning rates decay linearly to 0 (paper: 100 of 200 epochs)"))
    exemplars: int = Field(64, ge=0, le=1024, description=(
        "Real images per domain stored from the first batches (in checkpoints) for sample grids"))


class Exemplars(nn.Module):
    """Up to ``size`` real images of each domain, as uint8 buffers (lossless for data decoded from uint8).

    Filled from the first training batches; ``sample`` and the translation grids read them, so a
    saved run can show its translations without access to the data.
    """

    def __init__(self, size: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.size = size
        self.register_buffer("a", torch.zeros((size, *shape), dtype=torch.uint8))
        self.register_buffer("b", torch.zeros((size, *shape), dtype=torch.uint8))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def remember(self, a: Tensor, b: Tensor) -> None:
        count = int(self.count)
        take = min(self.size - count, len(a), len(b))
        if take <= 0:
            return
        self.a[count:count + take] = _to_uint8(a[:take])
        self.b[count:count + take] = _to_uint8(b[:take])
        self.count.fill_(count + take)

    def images(self, domain: Literal["a", "b"], n: int) -> Tensor:
        """``n`` exemplars of a domain in [-1, 1] (cycling through the stored ones)."""
        count = int(self.count)
        if count == 0:
            raise ValueError("this CycleGAN has no stored exemplars yet (it has not trained a step, or was built "
                             "with exemplars=0); translate real images with CycleGAN.translate or `ganzoo translate`")
        stored = getattr(self, domain)
        index = torch.arange(n, device=stored.device) % count
        return stored[index].float().div(127.5).sub(1.0)


def _to_uint8(images: Tensor) -> Tensor:
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def lsgan_generator(fake_out: Tensor) -> Tensor:
    """CycleGAN's least-squares generator loss E[(D(G(x)) − 1)²] (eq. 1 with the §4 LSGAN objective)."""
    return (fake_out - 1.0).pow(2).mean()


def cycle_loss(reconstruction: Tensor, original: Tensor) -> Tensor:
    """‖F(G(x)) − x‖₁, averaged over pixels (eq. 2)."""
    return (reconstruction - original).abs().mean()


def identity_loss(mapped: Tensor, original: Tensor) -> Tensor:
    """‖G(y) − y‖₁ for y already of G's target domain (§5.2, Taigman et al. 2017)."""
    return (mapped - original).abs().mean()


class CycleGAN(GANPlugin):
    spec = ModelSpec(
        name="cyclegan",
        title="CycleGAN",
        paper="Zhu, Park, Isola & Efros 2017, Unpaired Image-to-Image Translation using Cycle-Consistent "
              "Adversarial Networks",
        arxiv="1703.10593",
        family=Family.cycle,
        data_kinds=[DataKind.unpaired_images],
        default_dataset="mnist-thickness",
        deviations=(
            "Digit-sized defaults: 3 residual blocks below 128×128 (paper: 9 at 256×256, 6 at 128×128) and a "
            "PatchGAN with one stride-2 layer (16×16 patches) below 64×64, two below 128×128, instead of 70×70.",
            "The preset trains on MNIST thin ↔ thick strokes at 28×28 with batch 8 and k = 16; the paper trains on "
            "photographs and paintings at 256×256 with batch 1 and k = 64.",
            "The identity loss is on by default (0.5·λ); the paper uses it for some tasks (painting ↔ photo, §5.2).",
            "The learning rate decays linearly over the second half of the run's iterations (decay_start), the "
            "paper's 100 + 100 epochs counted in iterations.",

            "D is updated on a fresh batch translated by the just-updated generators (through the pool), not on the "
            "images of the preceding G step as in the authors' implementation.",
        ),
    )
    Config = CycleGANConfig
    config: CycleGANConfig
    generators = ("G_ab", "G_ba")
    discriminators = ("D_a", "D_b")

    # -- networks ---------------------------------------------------------------------------------
    @property
    def n_blocks(self) -> int:
        return self.config.n_blocks if self.config.n_blocks is not None else default_blocks(self.data.resolution)

    @property
    def d_layers(self) -> int:
        return self.config.d_layers if self.config.d_layers is not None else default_patch_layers(self.data.resolution)

    def generator(self) -> nn.Module:
        return ResnetGenerator(self.data.channels, self.data.resolution, self.config.g_channels, self.n_blocks)

    def discriminator(self) -> nn.Module:
        return PatchDiscriminator(self.data.channels * self.data.pack, self.config.d_channels, self.d_layers)

    def build(self) -> dict[str, nn.Module]:
        shape = tuple(self.data.shape)
        return {
            "G_ab": self.generator(), "G_ba": self.generator(),
            "D_a": self.discriminator(), "D_b": self.discriminator(),
            # state without parameters: no optimizer, no phase updates them; checkpointed as buffers
            "pool": nn.ModuleDict({"a": ImagePool(self.config.pool_size, shape),
                                   "b": ImagePool(self.config.pool_size, shape)}),
            "exemplars": Exemplars(self.config.exemplars, shape),
        }

    def optimizers(self) -> dict[str, OptimizerSpec]:
        c = self.config

        def adam(lr: float) -> OptimizerSpec:
            return OptimizerSpec(kind="adam", lr=lr, betas=(c.beta1, c.beta2), decay="linear",
                                 decay_start=c.decay_start)

        return {"G_ab": adam(c.lr_g), "G_ba": adam(c.lr_g), "D_a": adam(c.lr_d), "D_b": adam(c.lr_d)}

    def phases(self) -> list[Phase]:
        return [Phase("generators", self.generator_step, updates=("G_ab", "G_ba")),
                Phase("discriminators", self.discriminator_step, updates=("D_a", "D_b"))]

    # -- the update rule -----------------------------------------------------------------------------
    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        a, b = self._domains(batch)
        c = self.config
        if "exemplars" in nets:
            nets.exemplars.remember(a, b)
        fake_b = nets.G_ab(a)
        fake_a = nets.G_ba(b)
        out_b, out_a = nets.D_b(fake_b), nets.D_a(fake_a)
        adversarial_ab, adversarial_ba = lsgan_generator(out_b), lsgan_generator(out_a)
        cycle_a = cycle_loss(nets.G_ba(fake_b), a)
        cycle_b = cycle_loss(nets.G_ab(fake_a), b)
        loss = adversarial_ab + adversarial_ba + c.lambda_cycle * (cycle_a + cycle_b)
        logs: dict[str, Tensor | float] = {"adv_ab": adversarial_ab.detach(), "adv_ba": adversarial_ba.detach(),
                                           "cycle_a": cycle_a.detach(), "cycle_b": cycle_b.detach()}
        if c.lambda_identity > 0:
            identity_b = identity_loss(nets.G_ab(b), b)
            identity_a = identity_loss(nets.G_ba(a), a)
            loss = loss + c.lambda_identity * c.lambda_cycle * (identity_a + identity_b)
            logs.update(identity_a=identity_a.detach(), identity_b=identity_b.detach())
        return PhaseResult(loss, logs, d_fake=torch.cat([out_a.flatten(), out_b.flatten()]))

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        a, b = self._domains(batch)
        with torch.no_grad():
            fake_b, fake_a = nets.G_ab(a), nets.G_ba(b)
        if "pool" in nets:
            fake_b, fake_a = nets.pool["b"].query(fake_b), nets.pool["a"].query(fake_a)
        real_a, real_b = nets.D_a(a), nets.D_b(b)
        judged_a, judged_b = nets.D_a(fake_a), nets.D_b(fake_b)
        loss_a = losses.least_squares_discriminator(real_a, judged_a, ctx.real_target)
        loss_b = losses.least_squares_discriminator(real_b, judged_b, ctx.real_target)
        return PhaseResult(loss_a + loss_b, {"D_a": loss_a.detach(), "D_b": loss_b.detach()},
                           d_real=torch.cat([real_a.flatten(), real_b.flatten()]),
                           d_fake=torch.cat([judged_a.flatten(), judged_b.flatten()]))

    @staticmethod
    def _domains(batch: Batch) -> tuple[Tensor, Tensor]:
        if batch.real_b is None:
            raise ValueError("CycleGAN trains on unpaired image data: batches need domain B in batch.real_b "
                             "(use a dataset such as mnist-thickness or unpaired:DIR_A,DIR_B)")
        return batch.real, batch.real_b

    # -- using a trained model ---------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, nets: Networks, images: Tensor, direction: Direction = "a2b") -> Tensor:
        """Translate images in [-1, 1] (N, C, H, W) on the networks' device: 'a2b' by G_ab, 'b2a' by G_ba."""
        if direction not in ("a2b", "b2a"):
            raise ValueError(f"direction must be 'a2b' or 'b2a', got {direction!r}")
        return (nets.G_ab if direction == "a2b" else nets.G_ba)(images)

    @torch.no_grad()
    def sample(self, nets: Networks, ctx, n: int, labels: Tensor | None = None) -> Tensor:
        """``G_ab`` applied to ``n`` of the stored real domain-A exemplars, picked in an order drawn from
        ``ctx`` (so the seed chooses which; they repeat when n exceeds the stored ones).

        CycleGAN maps images to images; there is no noise to sample. These are honest outputs of the
        generator on real inputs; for chosen inputs use :meth:`translate`. A model that has seen no
        training batch (or has ``exemplars=0``) has no real inputs: it translates noise images
        tanh(z), z ~ ctx.latent, which shows only that the network runs.
        """
        exemplars = nets["exemplars"] if "exemplars" in nets else None
        count = int(exemplars.count) if exemplars is not None else 0
        if count == 0:
            z = ctx.latent(n, math.prod(self.data.shape)).view(n, *self.data.shape)
            return nets.G_ab(torch.tanh(z))
        order = ctx.latent(1, count)[0].argsort()  # a random order of the stored exemplars, from the seed
        index = order[torch.arange(n, device=order.device) % count]  # ctx and buffers share the device
        return nets.G_ab(exemplars.a[index].float().div(127.5).sub(1.0))

    @torch.no_grad()
    def translation_grid(self, nets: Networks, a: Tensor | None = None, b: Tensor | None = None,
                         n: int = 8) -> Tensor:
        """Rows of [a | G_ab(a) | G_ba(G_ab(a)) | b | G_ba(b) | G_ab(G_ba(b))] as one (6n, C, H, W) tensor.

        ``a``/``b`` default to ``n`` stored exemplars; write it with ``image_grid(..., nrow=6)``.
        """
        a = nets.exemplars.images("a", n) if a is None else a
        b = nets.exemplars.images("b", n) if b is None else b
        fake_b, fake_a = nets.G_ab(a), nets.G_ba(b)
        columns = [a, fake_b, nets.G_ba(fake_b), b, fake_a, nets.G_ab(fake_a)]
        return torch.stack(columns, dim=1).flatten(0, 1)


__doc__ = CycleGAN.spec.with_deviations(__doc__)
