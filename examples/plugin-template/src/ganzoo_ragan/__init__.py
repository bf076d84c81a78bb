"""Relativistic average GANs as a ganzoo plugin (``ganzoo run ragan``)."""

from ganzoo_ragan.plugin import RaGAN, RaGANConfig

__all__ = ["RaGAN", "RaGANConfig"]
__version__ = "0.1.0"
