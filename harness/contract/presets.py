"""Presets: model × dataset × hyper-parameters, validated.

They come from two places: ganzoo's curated ``registry.toml`` and the ``presets`` class attribute
of installed plugins (``GANPlugin.presets``), so a third-party distribution ships its presets with
its model. A preset table, in either place, looks like::

    [presets."wgan-gp/ring"]
    model = "wgan-gp"
    dataset = "ring"
    description = "..."
    train = { steps = 3000, batch_size = 256 }
    params = { lr_g = 1e-3 }          # checked against the plugin's own Config

A plugin's tables are the same dicts (``model`` may be left out; names must start with
``"<model>/"``). Every problem is reported with the file (or the plugin's distribution and
class), the table and the field, so a typo is found at once. When a plugin ships a preset whose
name registry.toml also defines, the registry.toml table wins and the clash is reported
(:func:`preset_problems`, ``ganzoo presets``, ``ganzoo check``).
"""

from __future__ import annotations

import difflib

import os
import tomllib
from importlib import resources
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from . import registry
from .config import TrainConfig
from .errors import PresetError, RegistryError
from .registry import LoadedPlugin


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    dataset: str
    description: str = ""
    train: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    #: where the table was defined: the registry.toml path, or "<Class>.presets in distribution …"
    _origin: str | None = PrivateAttr(default=None)

    @property
    def origin(self) -> str | None:
        return self._origin


def registry_path() -> Path:
    """``$GANZOO_REGISTRY`` if set, else the ``registry.toml`` shipped inside the package.

    It is package data of ``ganzoo.harness`` (``harness/registry.toml``; the checkout's top-level
    ``registry.toml`` is a link to it), so a wheel install has every preset and suite too.
    """
    override = os.environ.get("GANZOO_REGISTRY")
    if override:
        return Path(override)
    return Path(str(resources.files("ganzoo.harness").joinpath("registry.toml")))


def format_errors(error: ValidationError, path: Path | str, table: str, fields: Iterable[str] = ()) -> str:
    """One line per problem, naming the file and table; an unknown field gets a "did you mean" from ``fields``."""
    lines, known = [], list(fields)
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(table)"
        got = f" (got {item['input']!r})" if item["type"] != "missing" and "input" in item else ""
        hint = ""
        if item["type"] == "extra_forbidden" and known:
            close = difflib.get_close_matches(str(item["loc"][-1]), known, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else f"; the fields are: {', '.join(known)}"
        lines.append(f"{path}: [{table}] field '{field}': {item['msg']}{got}{hint}")
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
        presets[name]._origin = str(path)
    return presets


def registry_presets(path: Path | None = None) -> dict[str, Preset]:
    """The presets of ``registry.toml`` alone."""
    return _read((path or registry_path()).resolve())


# -- presets shipped by plugins -------------------------------------------------------------------
def plugin_origin(plugin: LoadedPlugin) -> str:
    return f"{plugin.cls.__name__}.presets in {plugin.source.describe()}"


@cache
def plugin_presets(plugin: LoadedPlugin) -> dict[str, Preset]:
    """The presets a plugin ships in its ``presets`` class attribute, checked for shape.

    Raises PresetError naming the distribution, the class, the preset and the field. (The values
    are checked against the schemas by :func:`validate_preset`, exactly as registry.toml's are.)
    """
    model = plugin.spec.name
    origin = plugin_origin(plugin)
    tables = getattr(plugin.cls, "presets", None) or {}
    if not isinstance(tables, Mapping):
        raise PresetError(f"{origin}: must be a mapping of preset name → table, got {type(tables).__name__}")
    presets: dict[str, Preset] = {}
    for name, table in tables.items():
        where = f'presets["{name}"]'
        if not isinstance(name, str) or not name.startswith(f"{model}/") or name == f"{model}/":
            raise PresetError(f"{origin}: preset name {name!r} must start with '{model}/' (the model's name), "
                              f"e.g. '{model}/ring'")
        if not isinstance(table, Mapping):
            raise PresetError(f"{origin}: [{where}] must be a table (dict), got {type(table).__name__}")
        table = {"model": model, **table}
        if table["model"] != model:
            raise PresetError(f"{origin}: [{where}] field 'model': a plugin's presets are for the plugin itself, "
                              f"{model!r} (got {table['model']!r}); leave 'model' out")
        try:
            preset = Preset.model_validate(table)
        except ValidationError as error:
            raise PresetError(format_errors(error, origin, where)) from None
        preset._origin = origin
        presets[name] = preset
    return presets


def _clash(name: str, kept: Preset, dropped: Preset) -> str:
    return (f"preset {name!r} is defined twice: in {kept.origin} and in {dropped.origin}; the first one is used. "
            "Rename the plugin's preset (or remove the registry.toml table)")


def _merge(base: dict[str, Preset], extra: dict[str, Preset], clashes: list[str]) -> None:
    for name, preset in extra.items():
        if name in base:
            clashes.append(_clash(name, base[name], preset))
        else:
            base[name] = preset


@dataclass
class PresetCatalog:
    """Every preset (registry.toml first, then each working plugin's) and what was wrong on the way."""

    presets: dict[str, Preset]
    clashes: list[str] = field(default_factory=list)  # a plugin preset named like an earlier one (not used)
    invalid: list[str] = field(default_factory=list)  # plugins whose preset tables are malformed (none used)

    @property
    def problems(self) -> list[str]:
        return [*self.invalid, *self.clashes]


def catalog(path: Path | None = None) -> PresetCatalog:
    """registry.toml's presets plus those of every working plugin (this imports every plugin).

    A plugin with invalid preset tables contributes none and is reported in ``problems``: one
    bad third-party plugin never takes the curated presets down with it.
    """
    found = PresetCatalog(dict(registry_presets(path)))
    working, _ = registry.discover()
    for plugin in working:
        try:
            _merge(found.presets, plugin_presets(plugin), found.clashes)
        except PresetError as error:
            found.invalid.append(str(error))
    return found


def all_presets(path: Path | None = None) -> dict[str, Preset]:
    """Every preset: registry.toml's and the installed plugins' (registry.toml wins a name clash)."""
    return catalog(path).presets


def preset_problems(path: Path | None = None) -> list[str]:
    """Name clashes between registry.toml and plugins, and plugins whose preset tables are invalid."""
    return catalog(path).problems


def model_presets(model: str, path: Path | None = None) -> PresetCatalog:
    """The presets of one model, importing only that model's plugin.

    Raises PresetError when the plugin's own tables are malformed (the user is about to use them).
    """
    found = PresetCatalog({name: p for name, p in registry_presets(path).items() if p.model == model})
    try:
        plugin = registry.get(model)
    except RegistryError:  # an unknown or broken model has only what registry.toml says
        return found
    _merge(found.presets, plugin_presets(plugin), found.clashes)
    return found


def validate_preset(name: str, preset: Preset, plugin: LoadedPlugin, path: Path | None = None) -> None:
    """Check a preset's ``train`` and ``params`` against the harness and the plugin schemas."""
    path = preset.origin or path or registry_path()
    try:
        TrainConfig.model_validate(preset.train)
    except ValidationError as error:
        raise PresetError(f"preset {name!r}:\n" + format_errors(error, path, f'presets."{name}".train',
                                                               TrainConfig.model_fields)) from None
    try:
        plugin.cls.Config.model_validate(preset.params)
    except ValidationError as error:
        raise PresetError(f"preset {name!r}:\n" + format_errors(error, path, f'presets."{name}".params',
                                                               plugin.cls.Config.model_fields)) from None


def presets_for(model: str, path: Path | None = None) -> dict[str, Preset]:
    """The presets of one model (registry.toml's and its plugin's), importing only that plugin."""
    return model_presets(model, path).presets
