"""What is installed: ``ganzoo.models()``, ``ganzoo.presets()``, ``ganzoo.datasets()`` (``ganzoo list``/``presets``)."""

from __future__ import annotations

import warnings

from ..contract import registry
from ..contract.presets import Preset, all_presets, presets_for
from ..contract.registry import BrokenPlugin
from ..contract.model_spec import ModelSpec
from ..data.catalog import DATASETS, PREFIXED


def models() -> dict[str, ModelSpec]:
    """Every working model plugin, built-in and third-party, by name → its spec (title, paper, data kinds, …).

    A broken plugin is left out with a warning that says why, as ``ganzoo list`` shows it."""
    working, problems = registry.discover()
    for problem in problems:
        reason = (f"broken plugin {problem.source.name} ({problem.source.describe()}): {problem.reason}"
                  if isinstance(problem, BrokenPlugin) else f"plugin conflict: {problem}")
        warnings.warn(reason, RuntimeWarning, stacklevel=2)
    return {plugin.spec.name: plugin.spec for plugin in working}


def presets(model: str | None = None) -> dict[str, Preset]:
    """Presets by name (``gan/ring`` → model, dataset, train and params values): all, or one model's."""
    if model is None:
        return dict(all_presets())
    registry.get(model)  # an unknown model is a RegistryError naming close matches, not an empty answer
    return dict(presets_for(model))


def datasets() -> dict[str, str]:
    """Dataset names ``train``/``evaluate`` accept → description (``folder:PATH``-style names included)."""
    found = {name: entry.description for name, entry in DATASETS.items()}
    found.update({f"{name}:PATH": entry.description for name, entry in PREFIXED.items()})
    return found
