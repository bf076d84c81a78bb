"""Every registered model (``ganzoo list``: built-in and installed third-party plugins) builds, trains two
steps, checkpoints, and comes back from its run directory equal to the networks it trained.

Like timm's tests/test_models.py: one parametrised sweep, so a new plugin is covered without a new test.
Each run is tiny (the size fields a model's config has are shrunk, generated data of the model's kind,
batch 8) and goes through the Python API as a user's would: ``ganzoo.train`` then ``ganzoo.load``.
The trained networks are read from the loop when ``fit`` returns (the one thing a user cannot see).
"""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo.harness.plugin import DataKind
from ganzoo.harness.train.checkpoint import load_networks
from ganzoo.harness.train.trainer import Trainer

MODELS = sorted(ganzoo.models())
#: generated data, the cheapest kind a model trains on first (no files needed)
GENERATED = {DataKind.points2d: "ring", DataKind.images: "synthetic", DataKind.unpaired_images: "synthetic-unpaired"}
#: config fields that set a model's size, and a tiny value for each (applied where the model has the field
#: and its default is larger; a third-party model's other fields keep their defaults)
TINY = {"hidden": 8, "depth": 1, "base_channels": 4, "latent_dim": 8, "embed_dim": 4, "hidden_dim": 8,
        "channels": 4, "convs": 1, "q_hidden": 8, "g_channels": 4, "d_channels": 4, "n_blocks": 1,
        "pool_size": 4, "exemplars": 8}
SAMPLES = 4


def _tiny_overrides(model: str) -> dict[str, int]:
    from ganzoo.harness.contract import registry

    fields = registry.get(model).cls.Config.model_fields
    return {name: value for name, value in TINY.items()
            if name in fields and isinstance(fields[name].default, int) and fields[name].default > value}


def _dataset_and_train(model: str) -> tuple[str, dict]:
    spec = ganzoo.models()[model]
    kind = next(kind for kind in GENERATED if kind in spec.data_kinds)
    train = {"log_every": 1, "eval_samples": 64, "precision": "fp32", "ema_decay": 0.5}
    # the resolution the model's own preset for its default dataset uses (BEGAN needs a power of two)
    preset = ganzoo.presets(model).get(f"{model}/{spec.default_dataset}")
    if kind is not DataKind.points2d and preset is not None and preset.train.get("resolution"):
        train["resolution"] = preset.train["resolution"]
    return GENERATED[kind], train


def _state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in net.state_dict().items()}


@pytest.fixture
def trained(monkeypatch):
    """What the loop holds when ``fit`` returns: every network's state and samples of both generators."""
    seen: dict = {}
    fit = Trainer.fit

    def recording_fit(trainer: Trainer):
        summary = fit(trainer)
        state = trainer.state
        seen["nets"] = {name: _state(net) for name, net in state.nets.items()}
        seen["ema nets"] = {name: _state(net) for name, net in trainer.sampling_networks().items()}
        live = ganzoo.Generator(state.plugin, state.nets, which="raw", run=state.run, source="the loop")
        seen["raw"] = live.sample(SAMPLES, seed=0)
        average = ganzoo.Generator(state.plugin, trainer.sampling_networks(), which="ema", run=state.run,
                                   source="the loop")
        seen["ema"] = average.sample(SAMPLES, seed=0)
        return summary

    monkeypatch.setattr(Trainer, "fit", recording_fit)
    return seen


@pytest.mark.parametrize("model", MODELS)
def test_builds_trains_checkpoints_and_reloads_equal(model, tmp_path, trained):
    dataset, train = _dataset_and_train(model)
    run = ganzoo.train(model, dataset, steps=2, batch_size=8, seed=0, out=tmp_path / "run", cpu=True,
                       progress=False, train=train, **_tiny_overrides(model))

    assert run.status == "completed" and run.summary["steps"] == 2
    assert not any(key.endswith(("nonfinite_loss", "nonfinite_grad")) for key in run.summary["counters"])
    losses = [value for record in run.history() for value in record.get("losses", {}).values()]
    assert losses and all(math.isfinite(value) for value in losses)

    _, nets, ema = load_networks(run.path)  # the last checkpoint: every network, not only the generator
    assert set(nets) == set(trained["nets"]) and ema is not None and set(ema) == set(nets)
    for name, net in nets.items():  # the trained networks: bit for bit
        saved = net.state_dict()
        assert saved.keys() == trained["nets"][name].keys(), name
        for key, value in trained["nets"][name].items():
            assert torch.equal(saved[key], value), f"{model}: {name}.{key} differs after reloading"
    for name, net in ema.items():  # the average: its weights bit for bit; its BatchNorm statistics are recomputed
        saved = net.state_dict()  # from fixed noise on loading (train/ema.py), equal up to float rounding
        for key, value in trained["ema nets"][name].items():
            if key.endswith(("running_mean", "running_var")):
                torch.testing.assert_close(saved[key], value, msg=f"{model}: EMA {name}.{key}")
            else:
                assert torch.equal(saved[key], value), f"{model}: EMA {name}.{key} differs after reloading"

    for which in ("raw", "ema"):  # what a user does next; the loop ran its convolutions in channels_last,
        generator = ganzoo.load(run, which=which)  # a reloaded network in the default layout: float rounding
        samples = generator.sample(SAMPLES, seed=0)
        assert samples.shape == (SAMPLES, *generator.shape) and torch.isfinite(samples).all()
        torch.testing.assert_close(samples, trained[which], rtol=1e-4, atol=1e-5,
                                   msg=lambda text: f"{model}: the reloaded {which} generator: {text}")
    assert not torch.equal(trained["raw"], trained["ema"])  # two generators, not one read twice
