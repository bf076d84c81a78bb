"""Specs and configs reject bad values with messages that name the field and the bound."""

import pytest
from pydantic import ValidationError

from ganzoo.harness.contract.config import parse_assignments
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.contract.errors import ConfigError
from ganzoo.harness.contract.model_spec import DataKind, Family, ModelSpec
from ganzoo.zoo.gan import GANConfig
from ganzoo.zoo.wgan_gp import WGANGP


def test_spec_round_trips_through_json():
    spec = WGANGP.spec
    assert ModelSpec.model_validate_json(spec.model_dump_json()) == spec


@pytest.mark.parametrize(("field", "value"), [("name", "Bad Name"), ("arxiv", "not-an-id"), ("data_kinds", [])])
def test_spec_rejects_invalid_fields(field, value):
    good = dict(name="x", title="X", paper="P", family=Family.minimax, data_kinds=[DataKind.points2d],
                default_dataset="ring")
    with pytest.raises(ValidationError, match=field):
        ModelSpec(**{**good, field: value})


def test_config_rejects_unknown_keys_and_out_of_range_values():
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        GANConfig(learning_rate=1e-3)
    with pytest.raises(ValidationError, match="greater than 0"):
        GANConfig(lr_g=0)
    assert GANConfig.model_validate_json(GANConfig(hidden=64).model_dump_json()).hidden == 64


def test_set_assignments_parse_json_values_and_nested_keys():
    assert parse_assignments(["lr_g=1e-4", "generator_loss=minimax", "train.ema_decay=0.999"]) == {
        "lr_g": 1e-4, "generator_loss": "minimax", "train": {"ema_decay": 0.999}}
    with pytest.raises(ValueError, match="key=value"):
        parse_assignments(["lr_g"])
    # registry.toml spells a plugin's fields under `params`: `--set params.lr_g=…` means the same field
    assert parse_assignments(["params.lr_g=1e-4", "train.steps=5"]) == {"lr_g": 1e-4, "train": {"steps": 5}}


def test_resolve_merges_preset_flags_and_overrides():
    run, _ = resolve_run("wgan-gp", dataset="grid", train_overrides={"steps": 7}, assignments=["n_critic=2"])
    assert run.preset == "wgan-gp/grid" and run.dataset == "grid"
    assert run.train.steps == 7 and run.params["n_critic"] == 2
    assert run.params["gp_weight"] == 0.1  # the preset's value (the authors' toy λ) …
    assert run.params["depth"] == 3  # … and an untouched default is resolved into the config


def test_bad_override_names_field_and_range():
    with pytest.raises(ConfigError, match=r"'n_critic'.*greater than or equal to 1.*got 0"):
        resolve_run("wgan-gp", assignments=["n_critic=0"])
    with pytest.raises(ConfigError, match=r"'train.batch_size'"):
        resolve_run("gan", train_overrides={"batch_size": 0})
    with pytest.raises(ConfigError, match="Extra inputs"):
        resolve_run("gan", assignments=["no_such_field=1"])


def test_dataset_of_the_wrong_kind_is_rejected(shared_data):
    with pytest.raises(ConfigError, match="points2d"):
        resolve_run("gan", dataset="mnist")
