"""Kept for plugins written against ganzoo 0.1 (``from ganzoo.harness import losses``).
New code imports ``losses`` from ``ganzoo.harness.plugin``."""

from .contract.gan_losses import *  # noqa: F403
