"""What the image GANs share, so each model file states only its paper's choices.

:class:`ImageGAN` builds the DCGAN-family networks of ``zoo.blocks`` sized from the data
(channels, resolution, classes, PacGAN packing, the harness's architecture tricks), gives both
networks Adam, and runs the standard alternating update: a discriminator step on a real and a
generated batch, then a generator step. A model supplies its objective
(:meth:`ImageGAN.discriminator_loss`, :meth:`ImageGAN.generator_loss`), its phases, and any
architecture change through :meth:`ImageGAN.discriminator`. Configs: :class:`ImageGANConfig` (the
networks and learning rates), :class:`AdamImageGANConfig` (+ Adam's betas) and
:class:`ConditionalImageGANConfig` (+ G's class embedding).
"""

from __future__ import annotations

from pydantic import Field
from torch import Tensor, nn

from ganzoo.harness.plugin import (Batch, GANPlugin, ModelConfig, Networks, OptimizerSpec, Phase, PhaseResult,
                                  StepContext)
from ganzoo.zoo.blocks import GeneratorConditioning, ImageDiscriminator, ImageGenerator


class ImageGANConfig(ModelConfig):
    """Fields every image GAN has; model configs subclass this and set their paper's defaults."""

    latent_dim: int = Field(100, ge=1, le=4096, description="Size of the noise vector z")
    base_channels: int = Field(64, ge=1, le=1024, description=(
        "Channels of G's last and D's first hidden layer; doubled per resolution stage, up to 8× (DCGAN: 64)"))
    lr_g: float = Field(2e-4, gt=0, le=1, description="Learning rate of G")
    lr_d: float = Field(2e-4, gt=0, le=1, description="Learning rate of D (differs from lr_g for TTUR)")


class AdamImageGANConfig(ImageGANConfig):
    """Most image GANs train both networks with Adam."""

    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁ for both networks")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂ for both networks")


class ConditionalImageGANConfig(AdamImageGANConfig):
    g_conditioning: GeneratorConditioning = Field("concat", description=(
        "How G sees the class: concat (embedding joined to z) or multiply (z ⊙ embedding, which keeps G from "
        "ignoring z)"))
    embed_dim: int = Field(50, ge=1, le=4096, description="Size of G's class embedding when it is concatenated to z")


class ImageGAN(GANPlugin):
    """Base class of the DCGAN-family image plugins (not registered itself)."""

    architecture_tricks = frozenset({"minibatch_std", "minibatch_discrimination"})
    config: ImageGANConfig

    # -- architecture ---------------------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def num_classes(self) -> int | None:
        """Classes G is conditioned on (None for unconditional models)."""
        if not self.spec.conditional:
            return None
        if not self.data.num_classes:
            raise ValueError(f"{self.spec.name} is class-conditional and needs labelled data; "
                             f"{self.data.name} has no labels")
        return self.data.num_classes

    def generator(self) -> nn.Module:
        c, classes = self.config, self.num_classes
        if not classes:
            return ImageGenerator(self.latent_dim, self.data.channels, self.data.resolution, c.base_channels)
        assert isinstance(c, ConditionalImageGANConfig), "conditional models use ConditionalImageGANConfig"
        return ImageGenerator(self.latent_dim, self.data.channels, self.data.resolution, c.base_channels,
                              num_classes=classes, embed_dim=c.embed_dim, conditioning=c.g_conditioning)

    def discriminator(self, **options) -> nn.Module:
        """D for this data: packed input channels, and the architecture tricks the run asks for; D's width is
        ``base_channels``, or ``d_base_channels`` where a model's config has it and sets it."""
        width = getattr(self.config, "d_base_channels", None) or self.config.base_channels
        return ImageDiscriminator(self.data.channels * self.data.pack, self.data.resolution,
                                  width, minibatch_std=self.tricks.minibatch_std,
                                  minibatch_discrimination=self.tricks.minibatch_discrimination, **options)

    def build(self):
        return {"G": self.generator(), "D": self.discriminator()}

    def optimizers(self):  # Adam; configs are AdamImageGANConfig unless a model overrides this
        c = self.config
        return {"G": OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2)),
                "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2))}

    # -- the alternating update ----------------------------------------------------------------
    def discriminator_loss(self, real_out: Tensor, fake_out: Tensor, ctx: StepContext) -> Tensor:
        raise NotImplementedError

    def generator_loss(self, fake_out: Tensor) -> Tensor:
        raise NotImplementedError

    def generate(self, nets: Networks, ctx: StepContext, n: int) -> tuple[Tensor, Tensor | None]:
        """n generated images, with the random labels they were conditioned on (None if unconditional)."""
        labels = ctx.random_labels(n) if self.spec.conditional else None
        return self.sample(nets, ctx, n, labels), labels

    def judge(self, D: nn.Module, images: Tensor, labels: Tensor | None):
        """D's output; conditional discriminators are called as D(x, labels) (the harness's convention)."""
        return D(images) if labels is None else D(images, labels)

    @property
    def reuse_fakes(self) -> bool:
        """Whether the G step reuses the batch the D step generated (one G forward per iteration instead of
        two), as DCGAN's reference code does; models whose config has ``reuse_fakes`` opt in."""
        return bool(getattr(self.config, "reuse_fakes", False))

    def discriminator_phase(self, **options) -> Phase:
        """The D phase; with :attr:`reuse_fakes` it keeps G's graph for the G phase of the same iteration."""
        return Phase("discriminator", self.discriminator_step, updates=("D",),
                     keeps_graph=("G",) if self.reuse_fakes else (), **options)

    def discriminator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        fake, fake_labels = self.generate(nets, ctx, len(batch))
        if self.reuse_fakes:
            ctx.stash("fake", (fake, fake_labels))
        real_out = self.judge(nets.D, batch.real, batch.labels if self.spec.conditional else None)
        fake_out = self.judge(nets.D, fake.detach(), fake_labels)
        return PhaseResult(self.discriminator_loss(real_out, fake_out, ctx), d_real=real_out, d_fake=fake_out)

    def generator_step(self, nets: Networks, batch: Batch, ctx: StepContext) -> PhaseResult:
        reused = ctx.take("fake") if self.reuse_fakes else None
        fake, labels = reused if reused is not None else self.generate(nets, ctx, len(batch))
        fake_out = self.judge(nets.D, fake, labels)
        return PhaseResult(self.generator_loss(fake_out), d_fake=fake_out)

    def sample(self, nets, ctx, n, labels=None):
        z = ctx.latent(n, self.latent_dim)
        return nets.G(z, labels) if self.spec.conditional else nets.G(z)
