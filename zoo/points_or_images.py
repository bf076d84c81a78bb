"""Helpers the models that run on both 2-D points and images call.

The mode-collapse papers test their method on 2-D Gaussian mixtures with MLPs and on images with
DCGAN-style networks. :func:`points_or_image_generator` and :func:`points_or_image_discriminator` pick the
network from the data: MLPs of ``depth`` × ``hidden`` units on points, the DCGAN family
(:mod:`ganzoo.zoo.image`) on images; :func:`latent_size` gives z's size (2 on points). A model file calls
them in its ``build`` with what its paper changes (the critic's activation, D's normalisation).
:func:`inference_networks` does the same for the models with an inverse network and a joint D(x, z)
(ALI/BiGAN's encoder E, VEEGAN's reconstructor F). The configs (:class:`PointsOrImagesConfig`,
:class:`InferenceConfig`) are the fields these models share.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from torch import nn

from ganzoo.harness.plugin import DataInfo, DataKind, GANPlugin, ModelConfig
from ganzoo.zoo.blocks import ImageEncoder, ImageGenerator, JointImageDiscriminator
from ganzoo.zoo.image import AdamImageGANConfig, image_discriminator, image_generator
from ganzoo.zoo.mlp import JointDiscriminator, PointsDiscriminator, PointsGenerator, mlp, orthogonal_init


#: the authors' orthogonal initialisation on points, an option of every model built by this module's helpers
OrthogonalGain = Annotated[float | None, Field(gt=0, le=10, description=(
    "Points: initialise every linear layer orthogonally with this gain and biases at 0 (the Unrolled GAN, "
    "VEEGAN and GDPP authors' 2-D code: 1.4); default PyTorch's initialisation"))]


class PointsOrImagesConfig(AdamImageGANConfig):
    latent_dim: int | None = Field(None, ge=1, le=4096, description=(
        "Size of the noise vector z (default: 2 for points, the model's image default for images)"))
    hidden: int = Field(128, ge=4, le=4096, description="Points: width of the hidden layers of G and D")
    depth: int = Field(3, ge=1, le=16, description="Points: number of hidden layers of G and D")
    mlp_activation: Literal["default", "tanh"] = Field("default", description=(
        "Points: 'default' is ReLU in G and LeakyReLU(0.2) in D; 'tanh' puts tanh in both (the Unrolled GAN "
        "authors' and GDPP authors' 2-D code)"))
    orthogonal_gain: OrthogonalGain = None


def on_points(data: DataInfo) -> bool:
    return data.kind == DataKind.points2d


def latent_size(data: DataInfo, configured: int | None, image_default: int = 100) -> int:
    """z's size: the configured one, else 2 on points (the mixture papers') and ``image_default`` on images."""
    if configured is not None:
        return configured
    return 2 if on_points(data) else image_default


def points_activation(config: PointsOrImagesConfig, net: Literal["G", "D"]) -> str:
    """The hidden units of the points MLP ``net`` under ``mlp_activation``: ReLU in G, LeakyReLU(0.2) in D, or
    tanh in both."""
    if config.mlp_activation == "tanh":
        return "tanh"
    return "relu" if net == "G" else "leaky_relu"


def points_or_image_generator(plugin: GANPlugin, latent_dim: int) -> nn.Module:
    """G: an MLP of ``depth`` × ``hidden`` units on points, the DCGAN generator on images."""
    c = plugin.config
    if on_points(plugin.data):
        return PointsGenerator(latent_dim, c.hidden, c.depth, plugin.data.shape[0],
                               activation=points_activation(c, "G"))
    return image_generator(plugin, latent_dim)


def points_or_image_discriminator(plugin: GANPlugin, *, activation: str | None = None, **image_options) -> nn.Module:
    """D: on points an MLP of ``depth`` × ``hidden`` units of ``activation`` (default: :func:`points_activation`)
    taking PacGAN's packed samples; on images the DCGAN discriminator with ``image_options``."""
    if not on_points(plugin.data):
        return image_discriminator(plugin, **image_options)
    if plugin.tricks.minibatch_std or plugin.tricks.minibatch_discrimination:
        raise ValueError("minibatch_std/minibatch_discrimination are implemented for the image D only")
    c = plugin.config
    return PointsDiscriminator(plugin.data.shape[0], c.hidden, c.depth, plugin.data.pack,
                               activation=activation or points_activation(c, "D"))


def inference_networks(data: DataInfo, latent_dim: int, hidden: int, depth: int, base_channels: int,
                       d_depth: int | None = None, d_activation: str = "leaky_relu", *,
                       d_base_channels: int | None = None,
                       d_joint_hidden: int = 512) -> tuple[nn.Module, nn.Module, nn.Module]:
    """(G: z → x, an encoder x → z, a joint D(x, z)): MLPs of ``depth`` × ``hidden`` units on points (D:
    ``d_depth`` layers of ``d_activation`` units); on images the DCGAN generator, D's convolutions as encoder
    (:class:`ImageEncoder`) and :class:`JointImageDiscriminator`, ``base_channels`` wide (D's convolutions
    ``d_base_channels``, its joint layers ``d_joint_hidden``: a small D for the small-D Stacked MNIST setting)."""
    if on_points(data):
        dim = data.shape[0]
        return (PointsGenerator(latent_dim, hidden, depth, dim), mlp(dim, hidden, depth, latent_dim),
                JointDiscriminator(dim, latent_dim, hidden, d_depth or depth, data.pack, activation=d_activation))
    return (ImageGenerator(latent_dim, data.channels, data.resolution, base_channels),
            ImageEncoder(data.channels, data.resolution, base_channels, latent_dim),
            JointImageDiscriminator(data.channels * data.pack, data.resolution, d_base_channels or base_channels,
                                    latent_dim, pack=data.pack, hidden=d_joint_hidden))


#: why the models with a joint D(x, z) refuse the harness's R1 (their ``unsupported_tricks``)
JOINT_D_REFUSES_R1 = {"r1_gamma": "R1 penalises D's gradient at real x alone; this D judges (x, z) pairs, "
                                  "and the harness cannot supply the codes that belong to x"}


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
    d_base_channels: int | None = Field(None, ge=1, le=1024, description=(
        "Images: width of D's first convolution (default base_channels); the small-D Stacked MNIST setting "
        "gives D a fraction of G's size"))
    d_joint_hidden: int = Field(512, ge=1, le=4096, description=(
        "Images: width of the joint D's linear layers on (features of x, z) (BiGAN's: 512)"))
    lr_g: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of G and the inverse network")
    lr_d: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of D")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂")
    orthogonal_gain: OrthogonalGain = None


def points_init(nets: dict[str, nn.Module], data: DataInfo, gain: float | None) -> dict[str, nn.Module]:
    """The authors' orthogonal initialisation on points when ``gain`` is set; otherwise PyTorch's, untouched."""
    if gain is None or not on_points(data):
        return nets
    return {name: orthogonal_init(net, gain) for name, net in nets.items()}


__all__ = ["InferenceConfig", "JOINT_D_REFUSES_R1", "PointsOrImagesConfig", "inference_networks", "latent_size",
           "on_points", "points_activation", "points_init", "points_or_image_discriminator", "points_or_image_generator"]
