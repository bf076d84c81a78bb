"""ganzoo 0.1's ``ganzoo.harness.losses``: now ``contract/gan_losses.py`` (see :mod:`ganzoo.harness.compat`)."""

from .compat import alias

alias(__name__)  # this import path is now that module itself
