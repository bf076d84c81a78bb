"""ganzoo from Python: ``import ganzoo; run = ganzoo.train("gan", steps=500)``.

This file is the ``ganzoo`` package itself (pyproject.toml maps ``ganzoo`` to this folder, and
``ganzoo.harness``/``ganzoo.zoo`` to the repository's ``harness/`` and ``zoo/``). It stays light:
nothing heavy (no torch) is imported until an attribute is used, so ``import ganzoo`` is instant and
``ganzoo --help`` never pays for it. Every name comes from :mod:`ganzoo.harness.api`, where each one
is documented; docs/python-api.md is the guide.
"""

from __future__ import annotations

import importlib
from typing import Any

#: the public names, all defined in ganzoo.harness.api
__all__ = [
    "train", "load", "evaluate", "export", "models", "presets", "datasets", "Run", "Generator",
    "GanzooError", "ConfigError", "PresetError", "RegistryError", "DataError", "SamplesError", "RunDirError",
    "CheckpointError", "ArtifactError", "MetricError", "SampleError", "TrackerError", "NonFiniteStop",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # the installed distribution's, never a second copy of pyproject's
        from importlib.metadata import version

        return version("ganzoo")
    if name in __all__:
        value = getattr(importlib.import_module("ganzoo.harness.api"), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, "__version__", "harness", "zoo"})
