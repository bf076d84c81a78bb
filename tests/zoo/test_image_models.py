"""Every image GAN of the zoo trains on MNIST through the real harness, at 28×28 and 32×32."""

import math

import pytest
import torch

from ganzoo.harness.contract import presets
from ganzoo.harness.contract import registry
from ganzoo.harness.evaluation.sampling import generate
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer

@pytest.fixture(autouse=True)
def no_image_metrics(monkeypatch):
    """These tests are about the models: skip the end-of-run image metrics (they train an MNIST classifier)."""

    def no_metrics(trainer):
        trainer.last_metrics = {}
        return {}

    monkeypatch.setattr(Trainer, "_evaluate", no_metrics)


IMAGE_MODELS = ["dcgan", "cgan", "acgan", "wgan", "wgan-gp", "lsgan", "sngan", "infogan", "projgan"]
TINY = ["base_channels=4", "latent_dim=8"]


def train(tmp_path, shared_data, model, steps=2, extra=(), **overrides):
    run, plugin = resolve_run(model, dataset="mnist", train_overrides={
        "steps": steps, "batch_size": 8, "log_every": 1, "eval_samples": 16, "precision": "fp32", **overrides},
        assignments=[*TINY, *extra])
    trainer = Trainer(run, plugin, RunDir(tmp_path), data_dir=shared_data, cpu=True, progress=False)
    return trainer, trainer.fit()


def test_every_image_model_is_registered_with_an_mnist_preset():
    for name in IMAGE_MODELS:
        spec = registry.get(name).spec
        assert spec.default_dataset == "mnist" or name == "wgan-gp"
        assert f"{name}/mnist" in presets.presets_for(name)
    assert registry.get("cgan").spec.conditional and registry.get("acgan").spec.conditional


@pytest.mark.parametrize("resolution", [28, 32])
@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_trains_on_mnist_with_finite_losses_and_right_shapes(tmp_path, shared_data, model, resolution):
    trainer, summary = train(tmp_path, shared_data, model, resolution=resolution)
    assert summary["steps"] == 2 and not trainer.counters  # no non-finite loss, no skipped step
    losses = [v for record in trainer.run_dir.read_metrics() for v in record.get("losses", {}).values()]
    assert losses and all(math.isfinite(v) for v in losses)
    images = generate(trainer.plugin, trainer.sampling_networks(), 6, seed=0, device=trainer.device)
    assert images.shape == (6, 1, resolution, resolution)
    assert images.min() >= -1 and images.max() <= 1  # tanh output, the data's range
    assert (tmp_path / "samples" / "final.png").stat().st_size > 100


def test_wgan_gp_keeps_the_mlp_for_points_and_uses_no_batch_norm_on_images(tmp_path, shared_data):
    trainer, _ = train(tmp_path / "img", shared_data, "wgan-gp", steps=1)
    critic = trainer.nets.D
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())
    assert any(isinstance(m, torch.nn.GroupNorm) for m in critic.modules())  # layer norm by default
    run, plugin = resolve_run("wgan-gp", dataset="ring", train_overrides={"steps": 1, "batch_size": 16,
                                                                          "eval_samples": 20},
                              assignments=["hidden=8", "depth=1"])
    points = Trainer(run, plugin, RunDir(tmp_path / "pts"), cpu=True, progress=False)
    assert type(points.nets.G).__name__ == "PointsGenerator" and points.plugin.latent_dim == 2
    assert trainer.plugin.latent_dim == 8


def test_cgan_with_a_projection_discriminator_trains(tmp_path, shared_data):
    trainer, _ = train(tmp_path, shared_data, "cgan", steps=1, extra=["conditioning=projection"])
    assert trainer.nets.D.projection is not None and trainer.nets.D.label_maps is None and not trainer.counters


def test_dcgan_d_base_channels_narrows_d_alone():
    """The small-D Stacked MNIST suite (PacGAN Table 3): D at the authors' 2/4/8 channels, G unchanged."""
    from ganzoo.harness.plugin import DataInfo, DataKind
    from ganzoo.zoo.dcgan import DCGAN

    data = DataInfo(name="stacked-mnist", kind=DataKind.images, shape=(3, 32, 32))
    narrow = DCGAN(DCGAN.Config(base_channels=16, d_base_channels=2, latent_dim=256), data).build()
    wide = DCGAN(DCGAN.Config(base_channels=16, latent_dim=256), data).build()
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(narrow["G"]) == count(wide["G"]) and count(narrow["D"]) < count(wide["D"]) / 16
    assert [m.out_channels for m in narrow["D"].modules() if isinstance(m, torch.nn.Conv2d)][:3] == [2, 4, 8]
    assert narrow["D"](torch.zeros(4, 3, 32, 32)).shape == (4,)
