"""The non-finite guard: skipped steps, rollback with a lowered learning rate, and a stop with a report."""

import json
import math

import pytest
import torch

from ganzoo.harness.contract.config import RunConfig, TrainConfig
from ganzoo.harness.train.guard import NonFiniteEvent, NonFiniteGuard, RollbackRequest
from ganzoo.harness.contract.errors import NonFiniteStop
from ganzoo.harness.contract.gan_plugin import PhaseResult
from ganzoo.harness.contract.registry import LoadedPlugin, PluginSource
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer
from ganzoo.zoo.gan import GAN


class PoisonedGAN(GAN):
    """The vanilla GAN whose discriminator phase turns non-finite from ``start`` on, ``calls`` times."""

    start = 5
    calls = math.inf
    mode = "loss"  # or "grad": a finite loss whose gradient is NaN

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.poisoned = 0

    def discriminator_step(self, nets, batch, ctx):
        result = super().discriminator_step(nets, batch, ctx)
        if ctx.step >= self.start and self.poisoned < self.calls:
            self.poisoned += 1
            if self.mode == "loss":
                return PhaseResult(result.loss * float("nan"), d_real=result.d_real, d_fake=result.d_fake)
            # d sqrt(u)/du at u = 0 is inf; times the zero weight: NaN gradients, finite loss
            return PhaseResult(result.loss + 0.0 * torch.sqrt(result.d_real.sum() * 0.0),
                               d_real=result.d_real, d_fake=result.d_fake)
        return result


def poisoned(tmp_path, start=5, calls=math.inf, mode="loss", **train):
    cls = type("Poisoned", (PoisonedGAN,), {"start": start, "calls": calls, "mode": mode})
    plugin = LoadedPlugin(PluginSource("poisoned-gan", "tests.train.test_guard:PoisonedGAN", "tests"), cls)
    settings = {"steps": 12, "batch_size": 32, "log_every": 4, "eval_samples": 100, "nan_patience": 3, **train}
    run = RunConfig(model="gan", dataset="ring", train=TrainConfig(**settings), params={"hidden": 16, "depth": 2})
    return Trainer(run, plugin, RunDir(tmp_path), cpu=True, progress=False)


def test_rollback_restores_the_last_good_checkpoint_with_lower_learning_rates(tmp_path):
    trainer = poisoned(tmp_path, start=5, calls=3, checkpoint_every=4)
    lrs = {name: opt.param_groups[0]["lr"] for name, opt in trainer.optimizers.items()}
    summary = trainer.fit()
    assert summary["status"] == "completed" and summary["steps"] == 12
    assert trainer.counters["rollbacks"] == 1 and trainer.counters["discriminator/nonfinite_loss"] == 3
    for name, opt in trainer.optimizers.items():
        assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * lrs[name])
    assert all(torch.isfinite(p).all() for net in trainer.nets.values() for p in net.parameters())
    (event,) = [r for r in trainer.run_dir.read_metrics() if r.get("event") == "rollback"]
    assert event["step"] == 4 and event["from_step"] == 8 and "discriminator" in event["reason"]
    saved = json.loads((tmp_path / "summary.json").read_text())
    codes = {w["code"]: w["message"] for w in saved["warnings"]}
    assert "rolled back from step 8 to step 4" in codes["rollback"] and "non_finite" in codes


def test_rollback_before_any_checkpoint_returns_to_the_start(tmp_path):
    trainer = poisoned(tmp_path, start=2, calls=3, checkpoint_every=0)
    trainer.fit()
    (event,) = [r for r in trainer.run_dir.read_metrics() if r.get("event") == "rollback"]
    assert event["step"] == 0 and trainer.step == 12


def test_stop_policy_reports_phase_step_and_tensor(tmp_path):
    trainer = poisoned(tmp_path, start=3, nan_policy="stop")
    with pytest.raises(NonFiniteStop) as info:
        trainer.fit()
    message = str(info.value)
    assert "phase 'discriminator'" in message and "step 6" in message and "loss is not finite" in message
    assert info.value.event.step == 6
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["status"] == "stopped" and "step 6" in saved["stopped"]
    assert saved["counters"]["discriminator/nonfinite_loss"] == 3


def test_nan_gradient_with_finite_loss_is_caught_and_named(tmp_path):
    trainer = poisoned(tmp_path, start=3, mode="grad", nan_policy="stop", nan_patience=2)
    with pytest.raises(NonFiniteStop, match=r"gradient of D\.net\.0\.weight is not finite"):
        trainer.fit()
    assert trainer.counters["discriminator/nonfinite_grad"] == 2
    assert all(torch.isfinite(p).all() for p in trainer.nets.D.parameters())  # the bad steps were skipped


def test_rollbacks_are_limited(tmp_path):
    trainer = poisoned(tmp_path, start=3, max_rollbacks=1, checkpoint_every=2)
    with pytest.raises(NonFiniteStop, match=r"after 1 rollback\(s\)"):
        trainer.fit()
    assert trainer.counters["rollbacks"] == 1


def test_isolated_skips_do_not_trigger_the_policy():
    guard = NonFiniteGuard(patience=2, policy="stop", max_rollbacks=0)
    for step in range(5):
        guard.bad(NonFiniteEvent("critic", step, "loss"))
        guard.good("critic")
    guard.bad(NonFiniteEvent("critic", 9, "loss"))
    guard.bad(NonFiniteEvent("generator", 9, "loss"))  # another phase: its own count
    with pytest.raises(NonFiniteStop):
        guard.bad(NonFiniteEvent("critic", 10, "loss"))
    rollback = NonFiniteGuard(patience=1, policy="rollback", max_rollbacks=2)
    with pytest.raises(RollbackRequest):
        rollback.bad(NonFiniteEvent("critic", 1, "loss"))
