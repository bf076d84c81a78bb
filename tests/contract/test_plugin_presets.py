"""Presets shipped by third-party plugins (GANPlugin.presets): found, applied, validated, clashes reported."""

import importlib
import sys

import pytest

from ganzoo.harness.contract import presets
from ganzoo.harness.contract import registry
from ganzoo.harness.contract.gan_plugin import GANPlugin
from ganzoo.harness.contract.errors import PresetError
from ganzoo.harness.train.resolve import resolve_run

SOURCE = '''
from ganzoo.harness.contract.model_spec import DataKind, Family, ModelSpec
from ganzoo.zoo.gan import GAN

class PresetGAN(GAN):
    spec = ModelSpec(name="preset-gan", title="GAN with its own presets", paper="Test 2026", family=Family.minimax,
                     data_kinds=[DataKind.points2d], default_dataset="ring")
    presets = PRESETS
'''

GOOD = {
    "preset-gan/ring": {"dataset": "ring", "description": "small", "train": {"steps": 7, "batch_size": 32},
                        "params": {"hidden": 24}},
    "preset-gan/wide": {"dataset": "grid", "params": {"hidden": 64, "depth": 2}},
}


def install(plugin_site, tables):
    sys.modules.pop("preset_plugin", None)  # each test installs its own version of the module
    importlib.invalidate_caches()
    plugin_site("presets-dist", {"preset-gan": "preset_plugin:PresetGAN"},
                {"preset_plugin": SOURCE.replace("PRESETS", repr(tables))})


def test_builtin_plugins_ship_no_presets_and_the_default_is_immutable():
    assert dict(GANPlugin.presets) == {}
    with pytest.raises(TypeError):
        GANPlugin.presets["x/y"] = {}  # type: ignore[index]
    assert registry.get("gan").cls.presets == {}


def test_plugin_presets_are_found_and_applied_like_registry_ones(plugin_site):
    install(plugin_site, GOOD)
    found = presets.presets_for("preset-gan")
    assert set(found) == {"preset-gan/ring", "preset-gan/wide"}
    assert found["preset-gan/ring"].model == "preset-gan"  # "model" may be left out of a plugin's table
    assert "distribution presets-dist" in found["preset-gan/ring"].origin
    assert {"preset-gan/ring", "gan/ring"} <= set(presets.all_presets())
    run, _ = resolve_run("preset-gan")  # the automatic MODEL/DATASET preset, as for registry.toml
    assert run.preset == "preset-gan/ring" and run.train.steps == 7 and run.params["hidden"] == 24
    run, _ = resolve_run("preset-gan", preset="preset-gan/wide", assignments=["depth=3"])
    assert run.dataset == "grid" and run.params["hidden"] == 64 and run.params["depth"] == 3


def test_bad_value_in_a_plugin_preset_names_distribution_preset_and_field(plugin_site):
    install(plugin_site, {"preset-gan/ring": {"dataset": "ring", "params": {"hidden": -3}}})
    preset = presets.presets_for("preset-gan")["preset-gan/ring"]
    with pytest.raises(PresetError) as info:
        presets.validate_preset("preset-gan/ring", preset, registry.get("preset-gan"))
    message = str(info.value)
    assert "PresetGAN.presets in preset_plugin:PresetGAN (distribution presets-dist)" in message
    assert '[presets."preset-gan/ring".params] field \'hidden\'' in message
    with pytest.raises(PresetError, match="'hidden'"):
        resolve_run("preset-gan")


@pytest.mark.parametrize(("tables", "expected"), [
    ({"ring": {"dataset": "ring"}}, "preset name 'ring' must start with 'preset-gan/'"),
    ({"preset-gan/ring": {"dataset": "ring", "stepz": 3}}, "field 'stepz': Extra inputs are not permitted"),
    ({"preset-gan/ring": {"model": "gan", "dataset": "ring"}}, "a plugin's presets are for the plugin itself"),
    ({"preset-gan/ring": ["ring"]}, "must be a table"),
])
def test_malformed_plugin_presets_fail_that_plugin_only(plugin_site, tables, expected):
    install(plugin_site, tables)
    with pytest.raises(PresetError, match="distribution presets-dist") as info:
        presets.presets_for("preset-gan")
    assert expected in str(info.value)
    assert "gan/ring" in presets.all_presets()  # registry.toml's presets and other plugins keep working
    assert any(expected in problem for problem in presets.preset_problems())
    resolve_run("gan")


def test_registry_toml_wins_a_name_clash_and_the_clash_is_reported(plugin_site, tmp_path, monkeypatch):
    install(plugin_site, GOOD)
    path = tmp_path / "registry.toml"
    path.write_text('[presets."preset-gan/ring"]\nmodel = "preset-gan"\ndataset = "ring"\nparams = { hidden = 8 }\n')
    monkeypatch.setenv("GANZOO_REGISTRY", str(path))
    chosen = presets.presets_for("preset-gan")["preset-gan/ring"]
    assert chosen.params == {"hidden": 8} and chosen.origin == str(path.resolve())
    (problem,) = presets.preset_problems()
    assert "'preset-gan/ring' is defined twice" in problem and str(path.resolve()) in problem
    assert "distribution presets-dist" in problem
    assert resolve_run("preset-gan")[0].params["hidden"] == 8

    from ganzoo.harness.check.conformance import run_checks

    report = run_checks("preset-gan", only=["presets"])
    (result,) = report.results
    assert result.status == "warn" and "defined twice" in result.detail and report.ok
