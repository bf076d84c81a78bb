"""What the models that run on both 2-D points and images share.

The mode-collapse papers test their method on 2-D Gaussian mixtures with MLPs and on images with
DCGAN-style networks. :class:`PointsOrImagesGAN` picks the networks from the data: MLPs of
``depth`` × ``hidden`` units and a 2-d z on points, :class:`ImageGAN`'s networks and a larger z on
images. A model states only what its paper changes (e.g. the critic's activation, D's normalisation).
:func:`inference_networks` does the same for the models with an inverse network and a joint D(x, z),
and :class:`InferenceGAN` is their common skeleton (ALI/BiGAN's encoder E, VEEGAN's reconstructor F).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from torch import nn

from ganzoo.harness.plugin import DataInfo, DataKind, GANPlugin, ModelConfig, OptimizerSpec, Phase
from ganzoo.zoo.blocks import ImageEncoder, ImageGenerator, JointImageDiscriminator
from ganzoo.zoo.image import AdamImageGANConfig, ImageGAN
from ganzoo.zoo.mlp import JointDiscriminator, PointsDiscriminator, PointsGenerator, mlp


class PointsOrImagesConfig(AdamImageGANConfig):
    latent_dim: int | None = Field(None, ge=1, le=4096, description=(
        "Size of the noise vector z (default: 2 for points, the model's image default for images)"))
    hidden: int = Field(128, ge=4, le=4096, description="Points: width of the hidden layers of G and D")
    depth: int = Field(3, ge=1, le=16, description="Points: number of hidden layers of G and D")
    mlp_activation: Literal["default", "tanh"] = Field("default", description=(
        "Points: 'default' is ReLU in G and LeakyReLU(0.2) in D; 'tanh' puts tanh in both (the Unrolled GAN "
        "authors' and GDPP authors' 2-D code)"))


class PointsOrImagesGAN(ImageGAN):
    """Base class (not registered itself): MLPs on points, the DCGAN-family networks on images."""

    image_latent_dim = 100  # z's size on images when the config leaves latent_dim unset
    config: PointsOrImagesConfig

    @property
    def on_points(self) -> bool:
        return self.data.kind == DataKind.points2d

    @property
    def latent_dim(self) -> int:
        return latent_size(self.data, self.config.latent_dim, self.image_latent_dim)

    def generator(self) -> nn.Module:
        if self.on_points:
            return PointsGenerator(self.latent_dim, self.config.hidden, self.config.depth, self.data.shape[0],
                                   activation=self.points_activation("G"))
        return super().generator()

    def points_activation(self, net: str) -> str:
        """The hidden units of the points MLP ``net`` ("G" or "D") under ``mlp_activation``."""
        if self.config.mlp_activation == "tanh":
            return "tanh"
        return "relu" if net == "G" else "leaky_relu"

    def discriminator(self, **image_options) -> nn.Module:
        """The points D (:meth:`points_discriminator`), or the image D with ``image_options``."""
        if not self.on_points:
            return super().discriminator(**image_options)
        if self.tricks.minibatch_std or self.tricks.minibatch_discrimination:
            raise ValueError("minibatch_std/minibatch_discrimination are implemented for the image D only")
        return self.points_discriminator()

    def points_discriminator(self) -> nn.Module:
        return PointsDiscriminator(self.data.shape[0], self.config.hidden, self.config.depth, self.data.pack,
                                   activation=self.points_activation("D"))


def latent_size(data: DataInfo, configured: int | None, image_default: int = 100) -> int:
    """z's size: the configured one, else 2 on points (the mixture papers') and ``image_default`` on images."""
    if configured is not None:
        return configured
    return 2 if data.kind == DataKind.points2d else image_default


def inference_networks(data: DataInfo, latent_dim: int, hidden: int, depth: int, base_channels: int,
                       d_depth: int | None = None,
                       d_activation: str = "leaky_relu") -> tuple[nn.Module, nn.Module, nn.Module]:
    """(G: z → x, an encoder x → z, a joint D(x, z)): MLPs of ``depth`` × ``hidden`` units on points (D:
    ``d_depth`` layers of ``d_activation`` units); on images the DCGAN generator, D's convolutions as encoder
    (:class:`ImageEncoder`) and :class:`JointImageDiscriminator`, all ``base_channels`` wide."""
    if data.kind == DataKind.points2d:
        dim = data.shape[0]
        return (PointsGenerator(latent_dim, hidden, depth, dim), mlp(dim, hidden, depth, latent_dim),
                JointDiscriminator(dim, latent_dim, hidden, d_depth or depth, data.pack, activation=d_activation))
    return (ImageGenerator(latent_dim, data.channels, data.resolution, base_channels),
            ImageEncoder(data.channels, data.resolution, base_channels, latent_dim),
            JointImageDiscriminator(data.channels * data.pack, data.resolution, base_channels, latent_dim,
                                    pack=data.pack))


class InferenceConfig(ModelConfig):
    latent_dim: int | None = Field(None, ge=1, le=1024, description=(
        "Size of z (and of the inverse network's output); default 2 for points, 100 for images"))
    hidden: int = Field(128, ge=4, le=4096, description="Points: width of the hidden layers of G, the inverse network and D")
    depth: int = Field(3, ge=1, le=16, description="Points: number of hidden layers of G, the inverse network and D")
    d_depth: int | None = Field(None, ge=1, le=16, description=(
        "Points: number of D's hidden layers (default: depth; the VEEGAN authors' 2-D D has 1)"))
    d_activation: Literal["leaky_relu", "relu"] = Field("leaky_relu", description=(
        "Points: D's hidden units, LeakyReLU(0.2) or ReLU (the VEEGAN authors' 2-D code)"))
    base_channels: int = Field(64, ge=1, le=1024, description=(
        "Images: width of the first convolution of the inverse network and D"))
    lr_g: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of G and the inverse network")
    lr_d: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of D")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂")


class InferenceGAN(GANPlugin):
    """Base class (not registered itself): G: z → x, an inverse network x → z named ``inverse`` and a D on
    (x, z) pairs (:func:`inference_networks`); one D step, then one joint step of G and the inverse network.
    A model adds its two step functions (``discriminator_step``, ``generator_step``)."""

    inverse: ClassVar[str]  # the inverse network's name in ``nets``
    config: InferenceConfig
    unsupported_tricks = {"r1_gamma": "R1 penalises D's gradient at real x alone; this D judges (x, z) pairs, "
                                        "and the harness cannot supply the codes that belong to x"}

    @property
    def latent_dim(self) -> int:
        return latent_size(self.data, self.config.latent_dim)

    def build(self):
        c = self.config
        G, inverse, D = inference_networks(self.data, self.latent_dim, c.hidden, c.depth, c.base_channels,
                                           c.d_depth, c.d_activation)
        return {"G": G, self.inverse: inverse, "D": D}

    def optimizers(self):
        c = self.config
        g = OptimizerSpec(kind="adam", lr=c.lr_g, betas=(c.beta1, c.beta2))
        return {"G": g, self.inverse: g, "D": OptimizerSpec(kind="adam", lr=c.lr_d, betas=(c.beta1, c.beta2))}

    def phases(self):
        return [Phase("discriminator", self.discriminator_step, updates=("D",)),
                Phase("generator", self.generator_step, updates=("G", self.inverse))]

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(ctx.latent(n, self.latent_dim))


__all__ = ["InferenceConfig", "InferenceGAN", "PointsOrImagesConfig", "PointsOrImagesGAN", "inference_networks",
           "latent_size"]
