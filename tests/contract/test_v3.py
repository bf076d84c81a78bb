"""Plugin contract v3 (issue #26): interval phases and their own optimizers, the lazy-regularization
correction, ``repeats`` returning 0, generator-side gradients and the path-length penalty through the step
context, lazy R1 as a harness trick (``train.tricks.r1_every``), and tricks that would double a plugin's own
penalty — each on the smallest thing that shows it."""

import dataclasses

import pytest
import torch
from torch import nn

from ganzoo.harness.contract import registry
from ganzoo.harness.contract.context import TrainingContext
from ganzoo.harness.plugin import OptimizerSpec, Phase, PhaseResult, losses
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.contract.errors import ConfigError, TrickConflictError
from ganzoo.harness.train.optim import build_optimizer
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.trainer import Trainer
from ganzoo.zoo.gan import GAN

CPU = torch.device("cpu")


def loaded(cls):
    return dataclasses.replace(registry.get("gan"), cls=cls)


def trainer_for(tmp_path, cls, steps=7, extra=(), resume=False, **train):
    settings = {"steps": steps, "batch_size": 16, "log_every": 1, "evaluate": False, "sample_every": 0, **train}
    run, _ = resolve_run("gan", dataset="ring", train_overrides=settings, assignments=["hidden=8", *extra])
    return Trainer(run, loaded(cls), RunDir(tmp_path, resume=resume), cpu=True, progress=False, resume=resume)


# -- declarations ---------------------------------------------------------------------------------------
def test_phase_declarations_are_checked_with_the_phase_named():
    step = lambda nets, batch, ctx: None  # noqa: E731
    with pytest.raises(ValueError, match="phase 'reg': every must be an int >= 1, got 0"):
        Phase("reg", step, updates=("D",), every=0)
    with pytest.raises(ValueError, match="phase 'd': repeats must be an int >= 1"):
        Phase("d", step, updates=("D",), repeats=0)
    phase = Phase("reg", step, updates=("D",), every=4)
    assert [phase.repeats_at(s) for s in range(9)] == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    warmup = Phase("d", step, updates=("D",), repeats=lambda s: 0 if s < 2 else 3)
    assert [warmup.repeats_at(s) for s in range(4)] == [0, 0, 3, 3]
    with pytest.raises(ValueError, match=r"repeats\(1\) must be an int >= 0 \(0 skips the phase"):
        Phase("d", step, updates=("D",), repeats=lambda s: -1).repeats_at(1)


def test_lazy_correction_scales_lr_and_betas_by_c_over_c_plus_1():
    net = nn.Linear(2, 1)
    adam = build_optimizer(OptimizerSpec(lr=2e-3, betas=(0.0, 0.99), lazy_interval=16), net.parameters())
    assert adam.param_groups[0]["lr"] == pytest.approx(2e-3 * 16 / 17)
    assert adam.param_groups[0]["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    plain = build_optimizer(OptimizerSpec(lr=2e-3, betas=(0.5, 0.99)), net.parameters())
    assert plain.param_groups[0]["lr"] == 2e-3 and plain.param_groups[0]["betas"] == (0.5, 0.99)


# -- interval phases through the trainer ----------------------------------------------------------------
class IntervalGAN(GAN):
    """gan plus a D phase every 3 iterations with its own SGD optimizer (a toy penalty: D's squared scores)."""

    def phases(self):
        d, g = super().phases()
        return [d, Phase("reg", self.reg, updates=("D",), every=3, optimizer=OptimizerSpec(kind="sgd", lr=0.01)), g]

    def reg(self, nets, batch, ctx):
        seen.append((ctx.step, ctx.interval))
        return PhaseResult(ctx.interval * nets.D(batch.real).pow(2).mean())


seen: list = []


def test_an_interval_phase_runs_on_iterations_its_every_divides_with_its_own_optimizer(tmp_path):
    seen.clear()
    trainer = trainer_for(tmp_path / "run", IntervalGAN, steps=7)
    trainer.fit()
    assert seen == [(0, 3), (3, 3), (6, 3)]
    assert trainer.phase_calls == {"discriminator": 7, "reg": 3, "generator": 7}
    own = trainer.optimizers["reg:D"]
    assert isinstance(own, torch.optim.SGD) and own.param_groups[0]["params"] == list(trainer.nets.D.parameters())
    assert isinstance(trainer.optimizers["D"], torch.optim.Adam)
    saved = torch.load(trainer.last_checkpoint, weights_only=True)
    assert set(saved["optimizers"]) == {"D", "G", "reg:D"} and "reg" in saved["scalers"]
    records = trainer.run_dir.read_metrics()
    assert ["reg/loss" in r["losses"] for r in records if "losses" in r] == [True, False, False, True, False,
                                                                           False, True]


def test_interval_phases_resume_bit_for_bit(tmp_path):
    from ..train.test_resume import assert_same_state

    whole = trainer_for(tmp_path / "whole", IntervalGAN, steps=10, log_every=4)
    whole.fit()
    trainer_for(tmp_path / "split", IntervalGAN, steps=5, log_every=4).fit()  # stops between two reg steps
    resumed = trainer_for(tmp_path / "split", IntervalGAN, steps=10, log_every=4, resume=True)
    resumed.fit()
    assert_same_state(whole, resumed)
    assert torch.equal(whole.optimizers["reg:D"].state_dict()["param_groups"][0]["lr"] * torch.ones(1),
                       resumed.optimizers["reg:D"].state_dict()["param_groups"][0]["lr"] * torch.ones(1))


class PoisonedInterval(IntervalGAN):
    def reg(self, nets, batch, ctx):
        return PhaseResult(nets.D(batch.real).mean() * float("nan"))


def test_a_non_finite_interval_step_is_skipped_and_counted_for_its_phase(tmp_path):
    trainer = trainer_for(tmp_path / "run", PoisonedInterval, steps=7, nan_patience=5)
    trainer.fit()
    assert trainer.counters["reg/nonfinite_loss"] == 3 and "discriminator/nonfinite_loss" not in trainer.counters


# -- generator-side gradients -----------------------------------------------------------------------------
def test_input_gradient_is_the_weighted_jacobian_product_with_a_graph_and_fp16_scale_changes_nothing():
    ctx = TrainingContext(CPU, 0, None)
    w = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    a = torch.tensor([2.0, 1.0], requires_grad=True)  # a "network parameter"
    y = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
    grads = ctx.input_gradient(a * w.pow(2), w, y)  # ∂Σ y·a·w²/∂w = 2·a·w·y
    assert torch.allclose(grads, 2 * a * w * y)
    grads.sum().backward()  # create_graph: the gradient reaches the parameter
    assert torch.allclose(a.grad, (2 * w * y).sum(0))
    ctx.loss_scale = 1024.0
    assert torch.equal(ctx.input_gradient(a * w.pow(2), w, y), grads)
    with pytest.raises(ValueError, match="the inputs do not require grad"):
        ctx.input_gradient(w.sum(1), torch.zeros(2))


def test_path_length_penalty_needs_its_state_and_changes_it_only_when_committed():
    ctx = TrainingContext(CPU, 0, None)
    w = torch.randn(8, 3, requires_grad=True)
    with pytest.raises(ValueError, match="declare it in initial_state"):
        ctx.path_length_penalty(w * 2.0, w)
    ctx.state = {"pl_mean": torch.tensor(0.0)}
    a = torch.tensor(2.0, requires_grad=True)  # G's "weight": J_w = a·I, so each length is a·‖y‖
    penalty = ctx.path_length_penalty(a * w, w, decay=0.5)
    assert ctx.state["pl_mean"].item() == 0.0 and penalty.requires_grad  # the state waits for the applied step
    noise = torch.randn(8, 3, generator=TrainingContext(CPU, 0, None).local.generator)
    lengths = 2.0 * noise.norm(dim=1)
    assert ctx.pending["pl_mean"].item() == pytest.approx(0.5 * lengths.mean().item())
    assert penalty.item() == pytest.approx((lengths - 0.5 * lengths.mean()).pow(2).mean().item(), rel=1e-5)
    average = ctx.pending["pl_mean"].item()
    ctx.commit_pending()
    assert ctx.state["pl_mean"].item() == average and not ctx.pending


# -- lazy R1 as a harness trick ---------------------------------------------------------------------------
def test_lazy_r1_is_a_phase_of_its_own_every_k_iterations_weighted_by_k(tmp_path):
    with pytest.raises(ConfigError, match="r1_every=4 schedules the R1 penalty, which is off"):
        resolve_run("gan", assignments=["train.tricks.r1_every=4"])
    trainer = trainer_for(tmp_path / "run", GAN, steps=9, extra=["train.tricks.r1_gamma=1", "train.tricks.r1_every=4"])
    trainer.fit()
    assert [p.name for p in trainer.phases] == ["discriminator", "r1", "generator"]
    assert trainer.phase_calls["r1"] == 3 and trainer.phase_calls["discriminator"] == 9
    records = [r for r in trainer.run_dir.read_metrics() if "losses" in r]
    assert "r1/r1_D" in records[0]["losses"] and "discriminator/r1_D" not in records[0]["losses"]
    spec = GAN.Config()
    adam = trainer.optimizers["D"].param_groups[0]
    assert adam["lr"] == pytest.approx(spec.lr_d * 4 / 5)  # StyleGAN2's correction for D's optimizer
    assert trainer.optimizers["G"].param_groups[0]["lr"] == pytest.approx(spec.lr_g)


# -- conflicts ---------------------------------------------------------------------------------------------
class OwnR1GAN(GAN):
    """Adds its own R1 to every D step, through the context."""

    def discriminator_step(self, nets, batch, ctx):
        result = super().discriminator_step(nets, batch, ctx)
        result.loss = result.loss + 5.0 * ctx.r1_penalty(nets.D, batch.real)
        return result


def test_a_trick_that_doubles_the_plugins_own_r1_stops_the_run_with_one_line(tmp_path):
    trainer = trainer_for(tmp_path / "run", OwnR1GAN, steps=2, extra=["train.tricks.r1_gamma=1"])
    with pytest.raises(TrickConflictError) as caught:
        trainer.fit()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("train.tricks.r1_gamma=1.0 adds the harness's R1 penalty to every discriminator "
                              "update, and gan's phase 'discriminator' computes its own with ctx.r1_penalty")
    assert 'unsupported_tricks = {"r1_gamma"' in message and 'composes_with = {"r1_gamma"' in message
    trainer_for(tmp_path / "alone", OwnR1GAN, steps=2).fit()  # without the trick: no conflict


def test_a_plugin_that_declares_it_composes_trains_with_both(tmp_path):
    class Composing(OwnR1GAN):
        composes_with = {"r1_gamma": "a test"}

    trainer = trainer_for(tmp_path / "run", Composing, steps=2, extra=["train.tricks.r1_gamma=1"])
    trainer.fit()
    assert "discriminator/r1_D" in trainer.run_dir.read_metrics()[0]["losses"]


def test_the_zoos_gradient_penalty_models_declare_that_r1_composes_with_theirs():
    from ganzoo.zoo.dragan import DRAGAN
    from ganzoo.zoo.gdpp import GDPP
    from ganzoo.zoo.wgan_gp import WGANGP

    assert all("r1_gamma" in cls.composes_with for cls in (WGANGP, DRAGAN, GDPP))


def test_a_trick_that_doubles_the_plugins_own_augmentation_stops_the_run_with_one_line(tmp_path):
    run, _ = resolve_run("dcgan", dataset="synthetic",
                         train_overrides={"steps": 2, "batch_size": 4, "resolution": 16, "log_every": 1,
                                          "evaluate": False, "sample_every": 0},
                         assignments=["base_channels=4", "train.tricks.diffaugment=translation"])
    from ganzoo.zoo.dcgan import DCGAN

    class OwnAugmentDCGAN(DCGAN):
        def discriminator_step(self, nets, batch, ctx):
            fake = self.sample(nets, ctx, len(batch)).detach()
            real_out = nets.D(ctx.augment(batch.real, "translation"))
            fake_out = nets.D(ctx.augment(fake, "translation"))
            return PhaseResult(losses.bce_discriminator(real_out, fake_out, ctx.real_target))

    loaded_dcgan = dataclasses.replace(registry.get("dcgan"), cls=OwnAugmentDCGAN)
    trainer = Trainer(run, loaded_dcgan, RunDir(tmp_path / "run"), cpu=True, progress=False)
    with pytest.raises(TrickConflictError) as caught:
        trainer.fit()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("train.tricks.diffaugment=translation augments every image the discriminator sees, "
                              "and dcgan's phase 'discriminator' computes its own with ctx.augment: the "
                              "augmentation would apply twice")
    assert 'unsupported_tricks = {"diffaugment"' in message


def test_ctx_augment_is_diffaugment_from_the_per_process_stream():
    from ganzoo.harness.contract.augment import diff_augment

    ctx = TrainingContext(CPU, seed=3, num_classes=None)
    images = torch.rand(4, 1, 8, 8)
    expected = diff_augment(images, ["translation", "cutout"],
                            generator=torch.Generator().manual_seed(ctx.local.generator.initial_seed()))
    assert torch.equal(ctx.augment(images, "translation,cutout"), expected)
    assert ctx.used == {"augment"}
    with pytest.raises(ValueError, match="unknown DiffAugment policy"):
        ctx.augment(images, "rotate")
