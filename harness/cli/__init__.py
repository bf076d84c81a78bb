"""The ``ganzoo`` command: one module per command, a thin layer over the library."""

from .main import app, main

__all__ = ["app", "main"]
