"""`ganzoo list`, `ganzoo show MODEL` and `ganzoo presets`: what is installed, what one model takes,
and whether every preset in registry.toml still fits its plugin's schema. Read-only commands.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from .common import err, fail, out

#: below this terminal width `ganzoo list` leaves out the family column (every title and arXiv id stays whole)
WIDE = 110


def list_models(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False) -> None:
    """List every installed model plugin (built-in and third-party) and any broken ones."""
    from .list_cache import cached_rows, fingerprint, remember

    key = fingerprint()
    rows = cached_rows(key)
    if rows is None:  # import every plugin (and torch); remembered for the next call when all load
        rows = _discover_rows()
        remember(key, rows)
    if as_json:
        out.print_json(json.dumps(rows))
        return
    working = [row for row in rows if row["status"] == "ok"]
    wide = out.width >= WIDE
    third_party = any(row["distribution"] != "ganzoo" for row in working)
    table = Table(title="ganzoo models")
    table.add_column("name", no_wrap=True)
    table.add_column("title", ratio=1, overflow="fold")
    if wide:
        table.add_column("family", no_wrap=True)
    table.add_column("data")
    table.add_column("cond.", no_wrap=True)
    table.add_column("arXiv" if all(row.get("arxiv") for row in working) else "paper", no_wrap=True)
    if wide or third_party:
        table.add_column("distribution", overflow="fold")
    for row in working:
        table.add_row(row["name"], row["title"], *([row["family"]] if wide else []),
                      ", ".join(sorted(row["data_kinds"])), "yes" if row.get("conditional") else "",
                      row.get("arxiv") or row.get("paper") or "", *([row["distribution"]] if wide or third_party else []))
    out.print(table)
    for row in rows:
        if row["status"] == "broken":
            err.print(f"[yellow]broken plugin[/] {row['name']} ({row['target']} (distribution {row['distribution']})): "
                      f"{row['reason']}", highlight=False)
        elif row["status"] != "ok":
            err.print(f"[yellow]plugin conflict[/]: {row['reason']}", highlight=False)


def _discover_rows() -> list[dict]:
    """The --json records of every plugin, imported through the registry."""
    from ..contract import registry
    from ..contract.registry import BrokenPlugin

    working, problems = registry.discover()
    rows = [{**p.spec.model_dump(mode="json"), "distribution": p.source.distribution, "status": "ok"}
            for p in working]
    rows += [{"name": p.source.name, "target": p.source.target, "distribution": p.source.distribution,
              "status": "broken", "reason": p.reason} if isinstance(p, BrokenPlugin)
             else {"status": "error", "reason": str(p)} for p in problems]
    return rows


def show(model: Annotated[str, typer.Argument(help="Model name, e.g. wgan-gp", metavar="MODEL")]) -> None:
    """Show a model's spec, its config schema (defaults, ranges, descriptions) and its presets."""
    from ..contract import registry
    from ..contract.presets import presets_for
    from ..contract.errors import RegistryError

    try:
        plugin = registry.get(model)
    except RegistryError as error:
        fail(str(error))
    spec = plugin.spec
    out.print(f"[bold]{spec.name}[/] — {spec.title}")
    out.print(f"paper: {spec.paper}" + (f" (arXiv {spec.arxiv})" if spec.arxiv else ""))
    out.print(f"family: {spec.family.value}; data: {', '.join(sorted(k.value for k in spec.data_kinds))}; "
              f"conditional: {spec.conditional}; default dataset: {spec.default_dataset}")
    out.print(f"from: {plugin.source.describe()}")
    deviations = getattr(spec, "deviations", ())
    out.print("[bold]Deviations from the paper[/]" if deviations else
              "Deviations from the paper: none declared by this plugin (ModelSpec.deviations)")
    for deviation in deviations:
        out.print(f"  - {deviation}", highlight=False)
    table = Table(title="config")
    for column in ("field", "type", "default", "range", "description"):
        table.add_column(column)
    schema = plugin.cls.Config.model_json_schema()
    for name, field in plugin.cls.Config.model_fields.items():
        prop = schema["properties"].get(name, {})
        bounds = [f"{label} {prop[key]}" for key, label in (("minimum", "≥"), ("exclusiveMinimum", ">"),
                                                             ("maximum", "≤"), ("exclusiveMaximum", "<"))
                  if key in prop]
        if "enum" in prop:
            bounds.append(" | ".join(map(str, prop["enum"])))
        table.add_row(name, prop.get("type", str(field.annotation)), repr(field.default), ", ".join(bounds),
                      field.description or "")
    out.print(table)
    presets = presets_for(model)
    if presets:
        table = Table(title="presets")
        for column in ("preset", "dataset", "from", "description"):
            table.add_column(column)
        for name, preset in presets.items():
            origin = preset.origin or "registry.toml"
            source = "registry.toml" if origin.endswith("registry.toml") else origin
            table.add_row(name, preset.dataset, source, preset.description)
        out.print(table)


def list_presets() -> None:
    """List every preset in registry.toml and check each against its plugin's schema."""
    from ..contract import registry
    from ..contract.presets import all_presets, validate_preset
    from ..contract.errors import PresetError, RegistryError

    table = Table(title="registry.toml presets")
    for column in ("preset", "model", "dataset", "status"):
        table.add_column(column)
    bad = 0
    for name, preset in all_presets().items():
        try:
            validate_preset(name, preset, registry.get(preset.model))
            status = "ok"
        except (RegistryError, PresetError) as error:
            status, bad = f"[red]{error}[/]", bad + 1
        table.add_row(name, preset.model, preset.dataset, status)
    out.print(table)
    if bad:
        raise typer.Exit(1)
