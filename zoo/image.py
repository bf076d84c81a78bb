"""Helpers the image GANs call: each model file picks its parts here and states its method itself.

Nothing here is a base class. A model subclasses ``GANPlugin`` and, in its own file, builds its networks
with :func:`image_generator` / :func:`image_discriminator` (the DCGAN family of ``zoo.blocks`` sized from the
data: channels, resolution, PacGAN packing and the harness's architecture tricks), takes Adam for both
networks from :func:`adam`, and writes its phases and step functions with its losses. Configs are data and
may be shared: :class:`ImageGANConfig` (the networks and learning rates), :class:`AdamImageGANConfig`
(+ Adam's betas) and :class:`ConditionalImageGANConfig` (+ G's class embedding).
"""

from __future__ import annotations

from pydantic import Field
from torch import nn

from ganzoo.harness.plugin import GANPlugin, ModelConfig, OptimizerSpec
from ganzoo.zoo.blocks import GeneratorConditioning, ImageDiscriminator, ImageGenerator

#: the architecture tricks :func:`image_discriminator` honours (a plugin's ``architecture_tricks``)
ARCHITECTURE_TRICKS = frozenset({"minibatch_std", "minibatch_discrimination"})


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


def labelled_classes(plugin: GANPlugin) -> int:
    """The number of classes a class-conditional model is conditioned on; an error for data without labels."""
    if not plugin.data.num_classes:
        raise ValueError(f"{plugin.spec.name} is class-conditional and needs labelled data; "
                         f"{plugin.data.name} has no labels")
    return plugin.data.num_classes


def image_generator(plugin: GANPlugin, latent_dim: int, *, conditional: bool = False) -> nn.Module:
    """The DCGAN generator z → image for ``plugin.data``, ``base_channels`` wide; ``conditional``: G also sees
    the class, as the config's ``g_conditioning`` and ``embed_dim`` say (a :class:`ConditionalImageGANConfig`)."""
    c, data = plugin.config, plugin.data
    if not conditional:
        return ImageGenerator(latent_dim, data.channels, data.resolution, c.base_channels)
    return ImageGenerator(latent_dim, data.channels, data.resolution, c.base_channels,
                          num_classes=labelled_classes(plugin), embed_dim=c.embed_dim, conditioning=c.g_conditioning)


def image_discriminator(plugin: GANPlugin, **options) -> nn.Module:
    """The DCGAN discriminator for ``plugin.data``: input channels × PacGAN's pack, the architecture tricks the
    run asks for, and ``options`` (``norm``, ``spectral_norm``, conditioning, ``aux_classes``; see
    :class:`~ganzoo.zoo.blocks.ImageDiscriminator`). Its width is ``base_channels``, or ``d_base_channels``
    where a model's config has it and sets it."""
    width = getattr(plugin.config, "d_base_channels", None) or plugin.config.base_channels
    return ImageDiscriminator(plugin.data.channels * plugin.data.pack, plugin.data.resolution, width,
                              minibatch_std=plugin.tricks.minibatch_std,
                              minibatch_discrimination=plugin.tricks.minibatch_discrimination, **options)


def adam(config: ModelConfig) -> dict[str, OptimizerSpec]:
    """Adam for G (``lr_g``) and D (``lr_d``), both with the config's ``beta1``, ``beta2``."""
    betas = (config.beta1, config.beta2)
    return {"G": OptimizerSpec(kind="adam", lr=config.lr_g, betas=betas),
            "D": OptimizerSpec(kind="adam", lr=config.lr_d, betas=betas)}


__all__ = ["ARCHITECTURE_TRICKS", "AdamImageGANConfig", "ConditionalImageGANConfig", "ImageGANConfig", "adam",
           "image_discriminator", "image_generator", "labelled_classes"]
