"""Plugin discovery through the ``ganzoo.models`` entry-point group, the only way models are found.

Our own models are registered exactly like a third party's (see pyproject.toml), so the
path a third party takes is the path we test every day. Discovery is lazy: nothing is
imported until a model is asked for, and ``ganzoo run X`` imports only X. A plugin that fails
to import, or whose spec or config is invalid, becomes a :class:`BrokenPlugin` with its reason,
and every other plugin keeps working.
"""

from __future__ import annotations

import difflib
import traceback
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from pydantic import BaseModel, ValidationError

from .errors import RegistryError
from .gan_plugin import GANPlugin
from .model_spec import ModelConfig, ModelSpec

GROUP = "ganzoo.models"


@dataclass(frozen=True)
class PluginSource:
    """Where an entry point comes from, for messages that name the distribution to fix."""

    name: str
    target: str  # "module:attr"
    distribution: str

    def describe(self) -> str:
        return f"{self.target} (distribution {self.distribution})"


@dataclass(frozen=True)
class BrokenPlugin:
    source: PluginSource
    reason: str


@dataclass(frozen=True)
class LoadedPlugin:
    source: PluginSource
    cls: type[GANPlugin]

    @property
    def spec(self) -> ModelSpec:
        return self.cls.spec


def _source(entry: EntryPoint) -> PluginSource:
    dist = entry.dist.name if entry.dist is not None else "<unknown distribution>"
    return PluginSource(name=entry.name, target=entry.value, distribution=dist)


@cache
def _entries() -> dict[str, tuple[EntryPoint, ...]]:
    """Entry points by name; the same (name, target, distribution) seen twice on sys.path counts once."""
    found: dict[str, dict[tuple[str, str], EntryPoint]] = {}
    for entry in entry_points(group=GROUP):
        source = _source(entry)
        found.setdefault(entry.name, {}).setdefault((source.target, source.distribution), entry)
    return {name: tuple(by_key.values()) for name, by_key in sorted(found.items())}


def clear_cache() -> None:
    """Forget discovered plugins (after installing one in the same process, and in tests)."""
    _entries.cache_clear()
    _load.cache_clear()


def names() -> list[str]:
    return list(_entries())


def validate_plugin_class(obj: object, entry_name: str) -> type[GANPlugin]:
    """Check what an entry point loaded against the contract; raise TypeError/ValueError with the reason."""
    if not (isinstance(obj, type) and issubclass(obj, GANPlugin)):
        raise TypeError(f"entry point must name a subclass of ganzoo.harness.contract.gan_plugin.GANPlugin, got {obj!r}")
    spec = getattr(obj, "spec", None)
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"{obj.__name__}.spec must be a ModelSpec instance, got {type(spec).__name__}")
    ModelSpec.model_validate(spec.model_dump())  # re-validate: a spec built with model_construct skips checks
    if spec.name != entry_name:
        raise ValueError(f"entry point is named {entry_name!r} but the spec's name is {spec.name!r}; make them equal")
    config_cls = getattr(obj, "Config", None)
    if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
        raise TypeError(f"{obj.__name__}.Config must be a pydantic model (subclass ModelConfig)")
    if config_cls.model_config.get("extra") != "forbid":
        raise TypeError(f"{obj.__name__}.Config must reject unknown keys: subclass ModelConfig (extra='forbid')")
    undocumented = [f for f, info in config_cls.model_fields.items() if not info.description]
    if undocumented:
        raise TypeError(f"{obj.__name__}.Config fields need a description: {', '.join(undocumented)}")
    try:
        config_cls()
    except ValidationError as error:
        raise ValueError(f"{obj.__name__}.Config has no valid defaults: {error}") from None
    missing = [n for n in ("generators", "discriminators") if not isinstance(getattr(obj, n, None), tuple)]
    if missing:
        raise TypeError(f"{obj.__name__}: {', '.join(missing)} must be tuples of network names")
    return obj


@cache
def _load(entry: EntryPoint) -> LoadedPlugin | BrokenPlugin:
    source = _source(entry)
    try:
        obj = entry.load()
    except Exception as error:  # noqa: BLE001 - any import failure makes the plugin broken, not us
        frames = [f for f in traceback.extract_tb(error.__traceback__) if "importlib" not in f.filename]
        where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        return BrokenPlugin(source, f"import failed: {type(error).__name__}: {error}{where}")
    try:
        return LoadedPlugin(source, validate_plugin_class(obj, entry.name))
    except (TypeError, ValueError, ValidationError) as error:
        return BrokenPlugin(source, f"invalid plugin: {error}")


def _duplicate_error(name: str, entries: tuple[EntryPoint, ...]) -> str:
    where = "; ".join(_source(e).describe() for e in entries)
    return (f"two plugins are registered under the name {name!r}: {where}. "
            "Uninstall one of these distributions or rename one entry point.")


def discover() -> tuple[list[LoadedPlugin], list[BrokenPlugin | str]]:
    """Load every plugin: (working plugins, problems). A problem is a BrokenPlugin or a duplicate message."""
    working: list[LoadedPlugin] = []
    problems: list[BrokenPlugin | str] = []
    for name, entries in _entries().items():
        if len(entries) > 1:
            problems.append(_duplicate_error(name, entries))
            continue
        result = _load(entries[0])
        (working if isinstance(result, LoadedPlugin) else problems).append(result)
    return working, problems


def get(name: str) -> LoadedPlugin:
    """The working plugin registered as ``name``, or a RegistryError that says what to do."""
    entries = _entries().get(name)
    if entries is None:
        close = difflib.get_close_matches(name, names(), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise RegistryError(f"unknown model {name!r}.{hint} `ganzoo list` shows the installed models.")
    if len(entries) > 1:
        raise RegistryError(_duplicate_error(name, entries))
    result = _load(entries[0])
    if isinstance(result, BrokenPlugin):
        raise RegistryError(f"model {name!r} from {result.source.describe()} is broken: {result.reason}")
    return result


def make_config(plugin: LoadedPlugin, values: dict) -> ModelConfig:
    """Validate hyper-parameters against the plugin's own schema (raises pydantic.ValidationError)."""
    return plugin.cls.Config.model_validate(values)
