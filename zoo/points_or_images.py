"""What the models that run on both 2-D points and images share.

The mode-collapse papers test their method on 2-D Gaussian mixtures with MLPs and on images with
DCGAN-style networks. :class:`PointsOrImagesGAN` picks the networks from the data: MLPs of
``depth`` × ``hidden`` units and a 2-d z on points, :class:`ImageGAN`'s networks and a larger z on
images. A model states only what its paper changes (e.g. the critic's activation, D's normalisation).
:func:`inference_networks` does the same for the models with an encoder and a joint D(x, z)
(ALI/BiGAN, VEEGAN).
"""

from __future__ import annotations

from pydantic import Field
from torch import nn

from ganzoo.harness.plugin import DataInfo, DataKind
from ganzoo.zoo.blocks import ImageEncoder, ImageGenerator, JointImageDiscriminator
from ganzoo.zoo.image import AdamImageGANConfig, ImageGAN
from ganzoo.zoo.mlp import JointDiscriminator, PointsDiscriminator, PointsGenerator, mlp


class PointsOrImagesConfig(AdamImageGANConfig):
    latent_dim: int | None = Field(None, ge=1, le=4096, description=(
        "Size of the noise vector z (default: 2 for points, the model's image default for images)"))
    hidden: int = Field(128, ge=4, le=4096, description="Points: width of the hidden layers of G and D")
    depth: int = Field(3, ge=1, le=16, description="Points: number of hidden layers of G and D")


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
            return PointsGenerator(self.latent_dim, self.config.hidden, self.config.depth, self.data.shape[0])
        return super().generator()

    def discriminator(self, **image_options) -> nn.Module:
        """The points D (:meth:`points_discriminator`), or the image D with ``image_options``."""
        if not self.on_points:
            return super().discriminator(**image_options)
        if self.tricks.minibatch_std or self.tricks.minibatch_discrimination:
            raise ValueError("minibatch_std/minibatch_discrimination are implemented for the image D only")
        return self.points_discriminator()

    def points_discriminator(self) -> nn.Module:
        return PointsDiscriminator(self.data.shape[0], self.config.hidden, self.config.depth, self.data.pack)


def latent_size(data: DataInfo, configured: int | None, image_default: int = 100) -> int:
    """z's size: the configured one, else 2 on points (the mixture papers') and ``image_default`` on images."""
    if configured is not None:
        return configured
    return 2 if data.kind == DataKind.points2d else image_default


def inference_networks(data: DataInfo, latent_dim: int, hidden: int, depth: int,
                       base_channels: int) -> tuple[nn.Module, nn.Module, nn.Module]:
    """(G: z → x, an encoder x → z, a joint D(x, z)): MLPs of ``depth`` × ``hidden`` units on points;
    on images the DCGAN generator, D's convolutions as encoder (:class:`ImageEncoder`) and
    :class:`JointImageDiscriminator`, all ``base_channels`` wide."""
    if data.kind == DataKind.points2d:
        dim = data.shape[0]
        return (PointsGenerator(latent_dim, hidden, depth, dim), mlp(dim, hidden, depth, latent_dim),
                JointDiscriminator(dim, latent_dim, hidden, depth, data.pack))
    return (ImageGenerator(latent_dim, data.channels, data.resolution, base_channels),
            ImageEncoder(data.channels, data.resolution, base_channels, latent_dim),
            JointImageDiscriminator(data.channels * data.pack, data.resolution, base_channels, latent_dim,
                                    pack=data.pack))


__all__ = ["PointsOrImagesConfig", "PointsOrImagesGAN", "inference_networks", "latent_size"]
