"""The defining mechanics of the image GANs, and the harness tricks seen through a zoo model."""

import pytest
import torch
from torch import nn

from ganzoo.harness.train import tricks
from ganzoo.harness.contract.context import TrainingContext
from ganzoo.harness.contract.gan_plugin import Batch, Networks
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.contract.model_spec import DataInfo, DataKind
from ganzoo.harness.train.trainer import Trainer
from ganzoo.harness.contract.tricks_config import TricksConfig
from ganzoo.zoo.acgan import ACGAN
from ganzoo.zoo.blocks import (ImageDiscriminator, ImageGenerator, MinibatchDiscrimination, MinibatchStd,
                               spectral_norm_layers, stages)
from ganzoo.zoo.cgan import CGAN
from ganzoo.zoo.dcgan import DCGAN
from ganzoo.zoo.sngan import SNGAN

from .test_image_models import no_image_metrics  # noqa: F401 (autouse fixture)

MNIST = DataInfo(name="mnist", kind=DataKind.images, shape=(1, 28, 28), num_classes=10)
TINY = ["base_channels=4", "latent_dim=8"]


def plugin(cls, data=MNIST, tricks_config=None, **params):
    return cls(cls.Config(base_channels=4, latent_dim=8, **params), data, tricks_config)


def trainer_for(tmp_path, shared_data, model, steps=1, extra=(), **overrides):
    run, loaded = resolve_run(model, dataset="mnist", train_overrides={
        "steps": steps, "batch_size": 8, "resolution": 28, "log_every": 1, "eval_samples": 8, **overrides},
        assignments=[*TINY, *extra])
    return Trainer(run, loaded, RunDir(tmp_path), data_dir=shared_data, cpu=True, progress=False)


def test_depth_follows_resolution():
    assert stages(28) == (7, 2) and stages(32) == (4, 3) and stages(64) == (4, 4)
    with pytest.raises(ValueError, match="resolution 27"):
        stages(27)
    G, D = ImageGenerator(8, 3, 64, 4), ImageDiscriminator(3, 64, 4)
    images = G(torch.randn(2, 8))
    assert images.shape == (2, 3, 64, 64) and D(images).shape == (2,)


def test_weights_start_from_normal_0_002():
    G = ImageGenerator(100, 1, 28, 64)
    conv = G.net[3]
    assert isinstance(conv, nn.ConvTranspose2d) and abs(conv.weight.std().item() - 0.02) < 0.002


def test_wgan_clips_critic_weights(tmp_path, shared_data):
    trainer = trainer_for(tmp_path, shared_data, "wgan", steps=2, extra=["clip=0.01"])
    trainer.fit()
    weights = torch.cat([p.detach().flatten() for p in trainer.nets.D.parameters()])
    assert weights.abs().max().item() == pytest.approx(0.01)  # bounded, and the bound is active
    assert trainer.phases[0].after_update is not None


def test_spectral_norm_keeps_each_layer_at_sigma_one(tmp_path, shared_data):
    # the DCGAN-style D (the sngan/mnist preset now picks the paper's standard CNN, tested in
    # test_paper_settings.py)
    trainer = trainer_for(tmp_path, shared_data, "sngan", steps=3, extra=("discriminator=dcgan",))
    trainer.fit()
    layers = spectral_norm_layers(trainer.nets.D)
    assert len(layers) == 3  # the two convolutions and the linear score at 28×28
    for layer in layers:
        weight = layer.weight.detach()  # W / σ̂(W), with the power-iteration estimate σ̂
        sigma = torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.05)
        raw = layer.parametrizations.weight.original.detach()
        assert torch.linalg.matrix_norm(raw.reshape(raw.shape[0], -1), ord=2).item() != pytest.approx(1.0, abs=0.05)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in trainer.nets.D.modules())


def test_acgan_class_loss_reaches_the_auxiliary_classifier():
    images, labels = torch.rand(8, 1, 28, 28) * 2 - 1, torch.arange(8) % 10
    grads = {}
    for weight in (1.0, 0.0):
        torch.manual_seed(0)
        acgan = plugin(ACGAN, class_weight=weight)
        nets = Networks(acgan.build())
        nets.G.requires_grad_(False)
        ctx = TrainingContext(torch.device("cpu"), 0, num_classes=10)
        result = acgan.discriminator_step(nets, Batch(images, labels), ctx)
        result.loss.backward()
        grads[weight] = nets.D.classifier.weight.grad.abs().sum().item()
        assert {"class_loss", "validity_loss"} <= set(result.logs)
    assert grads[1.0] > 0 and grads[0.0] == 0  # the head learns from the class loss alone


@pytest.mark.parametrize("cls", [CGAN, ACGAN])
def test_conditional_generator_output_changes_with_the_label(cls):
    torch.manual_seed(0)
    G = plugin(cls).build()["G"].eval()
    z = torch.randn(4, 8)
    zeros, ones = G(z, torch.zeros(4, dtype=torch.long)), G(z, torch.ones(4, dtype=torch.long))
    assert zeros.shape == (4, 1, 28, 28) and not torch.allclose(zeros, ones)
    with pytest.raises(ValueError, match="conditional"):
        G(z)


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_conditional_discriminator_depends_on_the_label(conditioning):
    torch.manual_seed(0)
    D = plugin(CGAN, conditioning=conditioning).build()["D"].eval()
    x = torch.rand(4, 1, 28, 28)
    assert not torch.allclose(D(x, torch.zeros(4, dtype=torch.long)), D(x, torch.full((4,), 7)))


def test_pacgan_packs_the_batch_into_channels(tmp_path, shared_data):
    trainer = trainer_for(tmp_path, shared_data, "dcgan", extra=["train.tricks.pack=2"])
    seen = []
    trainer.nets.D.register_forward_pre_hook(lambda module, args: seen.append(tuple(args[0].shape)))
    trainer.fit()
    assert trainer.nets.D.body[0].in_channels == 2  # built for pack × channels
    assert seen and set(seen) == {(4, 2, 28, 28)}  # 8 samples judged as 4 packs of 2


def test_diffaugment_transforms_real_and_fake_alike(tmp_path, shared_data, monkeypatch):
    calls = []

    def spy(x, policy, generator=None):
        out = original(x, policy, generator=generator)
        calls.append((x, out))
        return out

    original = tricks.diff_augment
    monkeypatch.setattr(tricks, "diff_augment", spy)
    trainer = trainer_for(tmp_path, shared_data, "dcgan", extra=["train.tricks.diffaugment=translation,cutout"])
    reals, fakes, judged = [], [], []
    next_batch = trainer._next_batch

    def record_batch():
        batch = next_batch()
        reals.append(batch.real)
        return batch

    trainer._next_batch = record_batch
    trainer.nets.G.register_forward_hook(lambda module, args, out: fakes.append(out))
    trainer.nets.D.register_forward_pre_hook(lambda module, args: judged.append(args[0]))
    trainer.fit()
    assert len(calls) == 3 and len(judged) == 3  # D step: real and fake; G step: fake
    assert calls[0][0] is reals[0]  # the real batch went through the augmentation …
    assert calls[1][0].data_ptr() == fakes[0].data_ptr()  # … and so did the (detached) fake
    assert calls[2][0] is fakes[0]  # the G step scores the D step's fakes again (DCGAN's reuse_fakes)
    assert all(any(seen is out for _, out in calls) for seen in judged)  # D never saw an un-augmented input
    assert not torch.equal(calls[0][0], calls[0][1])


def test_minibatch_std_adds_one_feature_map():
    x = torch.randn(8, 5, 4, 4)
    y = MinibatchStd(group_size=4)(x)
    assert y.shape == (8, 6, 4, 4) and torch.equal(y[:, :5], x)
    assert (y[:, 5] > 0).all() and y[0, 5].unique().numel() == 1  # one constant map per sample
    plain, with_std = (plugin(DCGAN, tricks_config=TricksConfig(minibatch_std=on)).build()["D"] for on in (False, True))
    assert with_std.score.in_features == plain.score.in_features + 7 * 7  # +1 channel at 7×7
    assert with_std(torch.rand(6, 1, 28, 28)).shape == (6,)


def test_minibatch_discrimination_appends_closeness_features():
    layer = MinibatchDiscrimination(in_features=6, kernels=3)
    same, varied = torch.ones(4, 6), torch.randn(4, 6) * 10
    out_same, out_varied = layer(same), layer(varied)
    assert out_same.shape == (4, 9) and torch.allclose(out_same[:, 6:], torch.full((4, 3), 3.0))  # 3 identical others
    assert (out_varied[:, 6:] < out_same[:, 6:]).all()
    D = plugin(SNGAN, tricks_config=TricksConfig(minibatch_discrimination=5)).build()["D"]
    assert D(torch.rand(4, 1, 28, 28)).shape == (4,) and D.mbdisc is not None


def test_architecture_tricks_are_accepted_by_image_models():
    for model in ("dcgan", "cgan", "acgan", "wgan", "wgan-gp", "lsgan", "sngan"):
        run, _ = resolve_run(model, dataset="mnist", assignments=["train.tricks.minibatch_std=true",
                                                                  "train.tricks.minibatch_discrimination=4"])
        assert run.train.tricks.minibatch_std
