"""`ganzoo run MODEL --resume RUN_DIR`: the saved configuration, with only ``steps`` allowed to change;
and where a run's inputs live outside its directory.

The data folder and local extractor weights are recorded in config.json (:func:`recorded_locations`),
so `--resume`, `ganzoo eval` and `ganzoo sample` find them again without being told: a run trained
with ``--data-dir ../shared/data`` resumes from any shell. What the user says now wins: ``--data-dir``
(or ``$GANZOO_DATA``) and ``--extractor-weights`` override the recorded paths.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..contract import registry
from ..contract.config import RunConfig, parse_assignments
from ..contract.registry import LoadedPlugin
from .checkpoint import config_changes
from .resolve import format_validation, validate_parts
from ..contract.errors import ConfigError
from ..data.storage import data_root
from ..report.rundir import RunDir


def resume_run(run_dir: Path, model: str, *, dataset: str | None = None, preset: str | None = None,
               train_overrides: dict[str, Any] | None = None,
               assignments: list[str] = ()) -> tuple[RunConfig, LoadedPlugin]:
    """The run's saved config with the user's options applied; any change but ``train.steps`` is refused."""
    saved_raw = RunDir(run_dir, resume=True).read_config() if Path(run_dir).is_dir() else None
    if saved_raw is None:
        raise ConfigError(f"--resume {run_dir}: no such run directory")
    saved_raw = {key: saved_raw[key] for key in RunConfig.model_fields if key in saved_raw}
    try:
        saved = RunConfig.model_validate(saved_raw)
    except ValidationError as error:
        raise ConfigError(f"--resume {run_dir}: config.json is not valid for this ganzoo:\n"
                          f"{format_validation(error)}") from None
    if saved.model != model:
        raise ConfigError(f"--resume {run_dir}: that run trains {saved.model!r}, not {model!r}; "
                          f"use `ganzoo run {saved.model} --resume {run_dir}`")
    plugin = registry.get(model)
    try:
        assigned = parse_assignments(list(assignments))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    train = {**saved.train.model_dump(mode="json"), **(train_overrides or {})}
    for key, value in assigned.pop("train", {}).items():
        if isinstance(value, dict) and isinstance(train.get(key), dict):
            train[key] = {**train[key], **value}
        else:
            train[key] = value
    params = {**saved.params, **assigned}
    train_config, model_config = validate_parts(plugin, train, params)
    requested = RunConfig(model=model, dataset=dataset or saved.dataset, preset=preset or saved.preset,
                          train=train_config, params=model_config.model_dump(mode="json"))
    changed = config_changes(saved.model_dump(mode="json"), requested.model_dump(mode="json"))
    if changed:
        raise ConfigError(f"--resume continues {run_dir} as it was configured; only --steps may change. "
                          "Changed:\n  " + "\n  ".join(changed) + "\n(start a new run with --out to change more)")
    return requested, plugin


# -- where a run's inputs live (recorded in config.json) ---------------------------------------------
def recorded_locations(data_dir: Path | None, extractor_weights: Path | None) -> dict[str, Any]:
    """The config.json keys: the data folder when one was chosen (not the per-user default), and the weights."""
    root = data_root(data_dir)
    chosen = root.origin != "the default per-user folder"
    return {"data_dir": str(root.path) if chosen else None,
            "extractor_weights": str(Path(extractor_weights).expanduser().resolve()) if extractor_weights else None}


def _recorded(run_dir: Path, key: str) -> Path | None:
    try:
        value = json.loads((Path(run_dir) / "config.json").read_text()).get(key)
    except (OSError, ValueError):
        return None
    return Path(value) if value else None


def data_dir_for(run_dir: Path, given: Path | None) -> Path | None:
    """``--data-dir`` if given, else ``$GANZOO_DATA`` (None lets the data layer read it), else the recorded folder."""
    if given is not None or os.environ.get("GANZOO_DATA"):
        return given
    return _recorded(run_dir, "data_dir")


def extractor_weights_for(run_dir: Path, given: Path | None) -> Path | None:
    return given if given is not None else _recorded(run_dir, "extractor_weights")
