"""Harness-side tricks: packing, DiffAugment, instance noise, R1, and rejection where they cannot apply."""

import pytest
import torch

from ganzoo.harness.contract.augment import diff_augment
from ganzoo.harness.contract.context import NoiseSource
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.contract.errors import ConfigError
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer
from ganzoo.harness.train.tricks import DiscriminatorView, pack
from ganzoo.harness.contract.tricks_config import TricksConfig


def test_pack_concatenates_consecutive_samples():
    x = torch.arange(12.0).reshape(6, 2)
    packed = pack(x, 3)
    assert packed.shape == (2, 6) and packed[0].tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="divisible"):
        pack(x, 4)


def test_diffaugment_is_differentiable_and_changes_images():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, ["color", "translation", "cutout"], generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_view_applies_the_same_transform_path_to_any_input():
    seen = []
    inner = torch.nn.Identity()
    inner.register_forward_hook(lambda m, args, out: seen.append(args[0].shape))
    view = DiscriminatorView(inner, TricksConfig(pack=2, instance_noise=0.5, instance_noise_steps=10),
                             NoiseSource(torch.device("cpu"), 0))
    out = view(torch.zeros(4, 2))
    assert seen == [torch.Size([2, 4])] and out.std() > 0  # packed, and noised
    view.step = 10
    assert view.noise_std() == 0.0  # annealed away


def test_incompatible_tricks_are_rejected_with_reasons():
    with pytest.raises(ConfigError, match="wasserstein loss"):
        resolve_run("wgan-gp", assignments=["train.tricks.label_smoothing=0.1"])
    with pytest.raises(ConfigError, match="minibatch_std changes the discriminator"):
        resolve_run("gan", assignments=["train.tricks.minibatch_std=true"])
    with pytest.raises(ConfigError, match="not divisible by pack"):
        resolve_run("gan", train_overrides={"batch_size": 10}, assignments=["train.tricks.pack=4"])


def test_training_with_tricks_stays_finite(tmp_path):
    run, plugin = resolve_run("gan", train_overrides={"steps": 5, "batch_size": 64, "eval_samples": 100}, assignments=[
        "hidden=16", "train.tricks.pack=4", "train.tricks.r1_gamma=1.0", "train.tricks.label_smoothing=0.1",
        "train.tricks.instance_noise=0.05"])
    trainer = Trainer(run, plugin, RunDir(tmp_path), cpu=True, progress=False)
    assert trainer.ctx.real_target == pytest.approx(0.9)
    trainer.fit()
    first = trainer.nets.D.net[0]
    assert first.in_features == 2 * 4  # the plugin built D for packed input
    records = trainer.run_dir.read_metrics()
    assert "discriminator/r1_D" in records[0]["losses"] and not trainer.counters


def test_r1_works_with_a_discriminator_that_returns_extra_heads(tmp_path, shared_data):
    run, plugin = resolve_run("acgan", dataset="mnist", train_overrides={"steps": 2, "batch_size": 8,
                                                                         "eval_samples": 16},
                              assignments=["base_channels=4", "latent_dim=8", "train.tricks.r1_gamma=1.0"])
    trainer = Trainer(run, plugin, RunDir(tmp_path), data_dir=shared_data, cpu=True, progress=False)
    trainer._evaluate = lambda: {}  # the models, not the metrics, are under test here
    trainer.fit()
    assert any(key.endswith("r1_D") for key in trainer.run_dir.read_metrics()[0]["losses"])
