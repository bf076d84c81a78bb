"""Curated presets from ``registry.toml``: model × dataset × hyper-parameters, validated.

A preset table looks like::

    [presets."wgan-gp/ring"]
    model = "wgan-gp"
    dataset = "ring"
    description = "..."
    train = { steps = 3000, batch_size = 256 }
    params = { lr_g = 1e-3 }          # checked against the plugin's own Config

Every problem is reported with the file, the table and the field, so a typo is found at once.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import TrainConfig
from .registry import LoadedPlugin


class PresetError(ValueError):
    """registry.toml, or a preset in it, is invalid; the message names file, table and field."""


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    dataset: str
    description: str = ""
    train: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)


def registry_path() -> Path:
    """``$GANZOO_REGISTRY`` if set, else the ``registry.toml`` at the top of the ganzoo checkout."""
    override = os.environ.get("GANZOO_REGISTRY")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "registry.toml"


def format_errors(error: ValidationError, path: Path, table: str) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(table)"
        got = f" (got {item['input']!r})" if item["type"] != "missing" and "input" in item else ""
        lines.append(f"{path}: [{table}] field '{field}': {item['msg']}{got}")
    return "\n".join(lines)


def _read(path: Path) -> dict[str, Preset]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise PresetError(f"{path} not found; set GANZOO_REGISTRY to a registry.toml") from None
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@cache
def _parse(path: Path, mtime_ns: int, size: int) -> dict[str, Preset]:
    """Parsed once per version of the file (the key includes its mtime and size)."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise PresetError(f"{path} not found; set GANZOO_REGISTRY to a registry.toml") from None
    except tomllib.TOMLDecodeError as error:
        raise PresetError(f"{path}: not valid TOML: {error}") from None
    unknown = set(document) - {"presets", "suites"}
    if unknown:
        raise PresetError(f"{path}: unknown top-level table(s) {sorted(unknown)}; expected 'presets' and 'suites'")
    presets = {}
    for name, table in document.get("presets", {}).items():
        where = f'presets."{name}"'
        try:
            presets[name] = Preset.model_validate(table)
        except ValidationError as error:
            raise PresetError(format_errors(error, path, where)) from None
    return presets


def all_presets(path: Path | None = None) -> dict[str, Preset]:
    return _read((path or registry_path()).resolve())


def validate_preset(name: str, preset: Preset, plugin: LoadedPlugin, path: Path | None = None) -> None:
    """Check a preset's ``train`` and ``params`` against the harness and the plugin schemas."""
    path = path or registry_path()
    try:
        TrainConfig.model_validate(preset.train)
    except ValidationError as error:
        raise PresetError(format_errors(error, path, f'presets."{name}".train')) from None
    try:
        plugin.cls.Config.model_validate(preset.params)
    except ValidationError as error:
        raise PresetError(format_errors(error, path, f'presets."{name}".params')) from None


def presets_for(model: str, path: Path | None = None) -> dict[str, Preset]:
    return {name: p for name, p in all_presets(path).items() if p.model == model}
