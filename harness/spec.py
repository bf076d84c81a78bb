"""ganzoo 0.1's ``ganzoo.harness.spec``: now ``contract/model_spec.py`` (see :mod:`ganzoo.harness.compat`)."""

from .compat import alias

alias(__name__)  # this import path is now that module itself
