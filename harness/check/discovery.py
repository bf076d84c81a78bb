"""The discovery checks: ``discovery``, ``spec`` and ``presets``. They look at the plugin as
installed, before anything is built: that its entry point loads and passes the registry, that its
spec and config schema survive JSON (run directories and ``ganzoo show`` rely on it), and that every
preset it ships validates. ``discovery`` also loads the plugin for all the other checks.
"""

from __future__ import annotations

import json

from .monitor import guarded_plugin_class
from .session import CheckSession, Fail, Warn, error_text


def check_discovery(session: CheckSession) -> str:
    from ..contract import registry
    from ..contract.registry import LoadedPlugin
    from ..contract.errors import RegistryError

    try:
        session.plugin = registry.get(session.name)
    except RegistryError as error:
        raise Fail(str(error)) from None
    session.monitor.watch_plugin(session.plugin.cls)
    guarded = guarded_plugin_class(session.plugin.cls, session.monitor)
    session.guarded = LoadedPlugin(session.plugin.source, guarded)
    session.resolve()
    return f"{session.plugin.source.target} from distribution {session.plugin.source.distribution}"


def check_spec(session: CheckSession) -> str:
    from ..contract.errors import DataError
    from ..data.catalog import dataset_kind
    from ..contract.model_spec import ModelSpec

    session.need_plugin()
    spec, config_cls = session.plugin.spec, session.plugin.cls.Config
    again = ModelSpec.model_validate_json(spec.model_dump_json())
    if again != spec:
        raise Fail(f"the spec does not survive a JSON round trip: {spec!r} came back as {again!r}")
    try:
        json.dumps(config_cls.model_json_schema())
    except Exception as error:  # noqa: BLE001
        raise Fail(f"{config_cls.__name__} has no JSON schema ({error_text(error)}): use JSON-compatible "
                   "field types (numbers, strings, booleans, Literal, lists)") from None
    defaults = config_cls()
    for label, values in (("defaults", defaults), ("check configuration", None)):
        if values is None:
            if session.run is None:
                raise Fail(f"the check configuration is invalid: {session.run_error}")
            values = config_cls.model_validate(session.run.params)
        try:
            back = config_cls.model_validate_json(values.model_dump_json())
            plain = config_cls.model_validate(json.loads(json.dumps(values.model_dump(mode="json"))))
        except Exception as error:  # noqa: BLE001
            raise Fail(f"{config_cls.__name__} ({label}) does not survive a JSON round trip: "
                       f"{error_text(error)}") from None
        if back != values or plain != values:
            raise Fail(f"{config_cls.__name__} ({label}) changes in a JSON round trip: {values!r} came back "
                       f"as {back if back != values else plain!r}")
    try:
        kind = dataset_kind(spec.default_dataset)
    except DataError as error:
        raise Fail(f"default_dataset {spec.default_dataset!r}: {error}") from None
    if kind not in spec.data_kinds:
        raise Fail(f"default_dataset {spec.default_dataset!r} is {kind.value} data, but the spec's data_kinds "
                   f"are {sorted(k.value for k in spec.data_kinds)}")
    return (f"spec and {config_cls.__name__} ({len(config_cls.model_fields)} fields) round-trip through JSON; "
            f"check configuration: {session.config_source} on {session.run.dataset}")


def check_presets(session: CheckSession) -> str:
    from ..contract.errors import DataError, PresetError
    from ..data.catalog import dataset_kind
    from ..contract.presets import model_presets, validate_preset

    session.need_plugin()
    try:
        found = model_presets(session.name)
    except PresetError as error:
        raise Fail(str(error)) from None
    problems = []
    for name, preset in found.presets.items():
        try:
            validate_preset(name, preset, session.plugin)
            kind = dataset_kind(preset.dataset)
            if kind not in session.plugin.spec.data_kinds:
                problems.append(f"{preset.origin}: [presets.\"{name}\"] dataset {preset.dataset!r} is "
                                f"{kind.value} data, which {session.name} does not train on")
        except (PresetError, DataError) as error:
            problems.append(str(error))
    if problems:
        raise Fail("; ".join(p.replace("\n", "; ") for p in problems))
    if not found.presets:
        return "no presets (optional: GANPlugin.presets, or a table in registry.toml)"
    listing = f"{len(found.presets)} valid: {', '.join(found.presets)}"
    if found.clashes:
        raise Warn(f"{listing}; " + "; ".join(found.clashes))
    return listing
