"""registry.toml: every shipped preset is valid; a bad one is reported with file, table and field."""

import pytest

from ganzoo.harness.contract import presets
from ganzoo.harness.contract import registry
from ganzoo.harness.contract.errors import PresetError


def test_every_shipped_preset_validates_against_its_plugin():
    for name, preset in presets.all_presets().items():
        presets.validate_preset(name, preset, registry.get(preset.model))


def _registry(tmp_path, monkeypatch, text):
    path = tmp_path / "registry.toml"
    path.write_text(text)
    monkeypatch.setenv("GANZOO_REGISTRY", str(path))
    return path


def test_bad_param_value_names_file_table_and_field(tmp_path, monkeypatch):
    path = _registry(tmp_path, monkeypatch, '[presets."gan/ring"]\nmodel = "gan"\ndataset = "ring"\n'
                                            'params = { lr_g = -1.0 }\n')
    preset = presets.all_presets()["gan/ring"]
    with pytest.raises(PresetError) as info:
        presets.validate_preset("gan/ring", preset, registry.get("gan"))
    message = str(info.value)
    assert str(path) in message and '[presets."gan/ring".params]' in message and "'lr_g'" in message


def test_unknown_key_in_preset_table(tmp_path, monkeypatch):
    _registry(tmp_path, monkeypatch, '[presets."gan/ring"]\nmodel = "gan"\ndataset = "ring"\nstepz = 3\n')
    with pytest.raises(PresetError, match=r'\[presets."gan/ring"\] field \'stepz\''):
        presets.all_presets()


def test_bad_train_value_and_broken_toml(tmp_path, monkeypatch):
    _registry(tmp_path, monkeypatch, '[presets."gan/ring"]\nmodel = "gan"\ndataset = "ring"\n'
                                     'train = { steps = 0 }\n')
    preset = presets.all_presets()["gan/ring"]
    with pytest.raises(PresetError, match=r"\.train\] field 'steps'"):
        presets.validate_preset("gan/ring", preset, registry.get("gan"))
    _registry(tmp_path, monkeypatch, "[presets\n")
    with pytest.raises(PresetError, match="not valid TOML"):
        presets.all_presets()
