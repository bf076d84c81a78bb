"""ganzoo's Python API — the functions ``import ganzoo`` exposes, and that the ``ganzoo`` command is a layer over.

```python
import ganzoo

run = ganzoo.train("gan", dataset="ring", steps=500, out="runs/ring", train={"ema_decay": 0.999})
run.metrics                                  # {'modes_captured': 8, 'hq_fraction': …, 'reverse_kl': …}
g = ganzoo.load(run, which="ema")            # or ganzoo.load("runs/ring"), or an exported .safetensors
x = g.sample(1000, seed=0)                   # tensor (1000, 2); images are (N, C, H, W) in [-1, 1]
g.save("ring-gan.safetensors")               # = ganzoo export runs/ring --out ring-gan.safetensors
ganzoo.evaluate("samples.npz", dataset="ring")   # score anyone's samples under the same protocol
```

| name | what |
| --- | --- |
| ``train(model, dataset=None, *, preset, steps, out, batch_size, seed, precision, data_dir, cpu, progress, log_with, resume, time_limit, **overrides) -> Run`` | ``ganzoo run`` in this process |
| ``load(run_dir_or_file, which=None, *, checkpoint, device, sha256) -> Generator`` | a trained generator: ``.sample(n, labels=None, seed=0)``, ``.to(device)``, ``.save(path)`` |
| ``evaluate(run_or_generator_or_samples, *, dataset, metrics, extractor, n, seed, …) -> dict`` | ``ganzoo eval RUN`` / ``ganzoo eval --samples PATH --dataset NAME`` |
| ``export(run_dir, out, which=None, checkpoint="last") -> dict`` | ``ganzoo export RUN --out FILE``: metadata and sha256 of the file written |
| ``models()``, ``presets(model=None)``, ``datasets()`` | what is installed: ``ganzoo list``, ``ganzoo presets`` |
| ``Run(path)`` | a run directory: ``.config``, ``.summary``, ``.metrics``, ``.history()``, ``.load()``, ``.evaluate()``, ``.export()`` |
| ``GanzooError`` and its subclasses | every error that is the user's to fix, with the command line's one-line message |

docs/python-api.md is the guide (its examples run in the test suite).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..contract import registry
from ..contract.errors import (ArtifactError, CheckpointError, ConfigError, DataError, GanzooError, MetricError,
                               NonFiniteStop, PresetError, RegistryError, RunDirError, SampleError, SamplesError,
                               TrackerError)
from ..contract.model_spec import ModelSpec
from ..contract.presets import Preset, all_presets, presets_for
from ..contract.registry import BrokenPlugin
from ..data.catalog import DATASETS, PREFIXED
from .generator import Generator, load
from .scoring import evaluate
from .training import Run, train


def export(run: Any, out: str | Path, which: str | None = None, checkpoint: str | int = "last") -> dict[str, str]:
    """Write a run's generator to ``out`` as one self-contained safetensors file (``ganzoo export``).

    Returns the artifact's metadata with ``file_sha256``: publish that hash beside the file, and
    ``ganzoo.load(file, sha256=...)`` checks it."""
    return load(run, which, checkpoint=checkpoint).save(out)


# -- what is installed (``ganzoo list``/``presets``) ------------------------------------------------------
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


__all__ = [
    "train", "load", "evaluate", "export", "models", "presets", "datasets", "Run", "Generator",
    "GanzooError", "ConfigError", "PresetError", "RegistryError", "DataError", "SamplesError", "RunDirError",
    "CheckpointError", "ArtifactError", "MetricError", "SampleError", "TrackerError", "NonFiniteStop",
]
