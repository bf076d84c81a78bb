"""From what the user typed to a validated RunConfig and the plugin that will run it."""

from __future__ import annotations

import difflib

from typing import Any

from pydantic import ValidationError

from ..contract import registry
from ..contract.config import RunConfig, TrainConfig, parse_assignments
from ..contract.errors import ConfigError, PresetError
from ..data.catalog import dataset_kind
from ..contract.presets import Preset, presets_for, validate_preset
from ..contract.registry import LoadedPlugin
from ..contract.tricks_config import incompatibilities


def format_validation(error: ValidationError, prefix: str = "") -> str:
    lines = []
    for item in error.errors():
        field = prefix + ".".join(str(p) for p in item["loc"])
        got = f" (got {item['input']!r})" if "input" in item and item["type"] != "missing" else ""
        lines.append(f"invalid value for '{field}': {item['msg']}{got}")
    return "\n".join(lines)


def choose_preset(plugin: LoadedPlugin, dataset: str | None, preset: str | None) -> tuple[str | None, Preset | None]:
    model = plugin.spec.name
    available = presets_for(model)
    if preset is not None:
        if preset not in available:
            listing = ", ".join(sorted(available)) or "none"
            close = difflib.get_close_matches(preset, list(available), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise PresetError(f"no preset {preset!r} for model {model!r}.{hint} Its presets: {listing}")
        return preset, available[preset]
    automatic = f"{model}/{dataset or plugin.spec.default_dataset}"
    return (automatic, available[automatic]) if automatic in available else (None, None)


def validate_parts(plugin: LoadedPlugin, train: dict[str, Any], params: dict[str, Any]) -> tuple[TrainConfig, Any]:
    """Harness settings and the plugin's config, validated; ConfigError names the field and range."""
    try:
        train_config = TrainConfig.model_validate(train)
    except ValidationError as error:
        raise ConfigError(format_validation(error, "train.")) from None
    try:
        model_config = plugin.cls.Config.model_validate(params)
    except ValidationError as error:
        raise ConfigError(format_validation(error) + f"\n(`ganzoo show {plugin.spec.name}` lists the fields and "
                          "their ranges)") from None
    return train_config, model_config


def resolve_run(model: str, *, dataset: str | None = None, preset: str | None = None,
                train_overrides: dict[str, Any] | None = None, assignments: list[str] = ()) -> tuple[RunConfig, LoadedPlugin]:
    """Preset values, then explicit CLI flags, then ``--set`` assignments, then validation."""
    plugin = registry.get(model)
    preset_name, chosen = choose_preset(plugin, dataset, preset)
    if chosen is not None:
        validate_preset(preset_name, chosen, plugin)
    dataset = dataset or (chosen.dataset if chosen else plugin.spec.default_dataset)
    kind = dataset_kind(dataset)
    if kind not in plugin.spec.data_kinds:
        supported = ", ".join(sorted(k.value for k in plugin.spec.data_kinds))
        raise ConfigError(f"model {model!r} trains on {supported} data, but dataset {dataset!r} is {kind.value} data")
    try:
        assigned = parse_assignments(list(assignments))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    train_assigned = assigned.pop("train", {})
    train = {**(chosen.train if chosen else {}), **(train_overrides or {}), **train_assigned}
    params = {**(chosen.params if chosen else {}), **assigned}
    train_config, model_config = validate_parts(plugin, train, params)
    problems = incompatibilities(train_config.tricks, plugin.spec, kind, plugin.cls.architecture_tricks,
                                 plugin.cls.unsupported_tricks)
    if train_config.batch_size % train_config.tricks.pack:
        problems.append(f"batch_size {train_config.batch_size} is not divisible by pack {train_config.tricks.pack}")
    if problems:
        raise ConfigError("tricks that cannot apply to this run:\n  " + "\n  ".join(problems))
    run = RunConfig(model=model, dataset=dataset, preset=preset_name, train=train_config,
                    params=model_config.model_dump(mode="json"))
    return run, plugin
