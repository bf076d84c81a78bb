"""Plugin contract v2 (issue #13): transparent D views, plugin state, after_step, refused tricks,
PhaseResult validation, plugin diagnostics, seeded uniform/categorical noise, parameter groups and
plateau schedules, sample views — each on the smallest thing that shows it."""

import json
import math

import pytest
import torch
from torch import nn

from ganzoo.harness.contract.context import TrainingContext
from ganzoo.harness.contract.tricks_config import TricksConfig
from ganzoo.harness.plugin import OptimizerSpec, PhaseResult, PlateauSpec
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.build import LearningRates
from ganzoo.harness.contract.errors import ConfigError, PluginContractError
from ganzoo.harness.train.optim import parameter_groups
from ganzoo.harness.train.phase_step import check_result
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.tricks import DiscriminatorView
from ganzoo.harness.train.trainer import Trainer
from ganzoo.harness.contract import registry
from ganzoo.zoo.gan import GAN


class Scored(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = 7
        self.lin = nn.Linear(2, 1)

    def forward(self, x, with_q=False):
        score = self.lin(x).squeeze(1)
        return (score, x.sum(1)) if with_q else score


def test_discriminator_view_passes_keywords_and_attributes_to_the_plugin_module():
    view = DiscriminatorView(Scored(), TricksConfig(instance_noise=0.1), TrainingContext(torch.device("cpu"), 0, None))
    score, q = view(torch.zeros(4, 2), with_q=True)
    assert score.shape == (4,) and q.shape == (4,)
    assert view.k == 7 and view.lin is view.inner.lin
    assert list(view.parameters()) == list(view.inner.parameters())


@pytest.mark.parametrize(("result", "message"), [
    (PhaseResult(torch.tensor(1.0), d_fake=torch.zeros(8, 1, 4, 4)), "d_fake must be D's scores as a 1-D tensor"),
    (PhaseResult(torch.tensor(1.0), d_real=torch.zeros(3)), "d_real must be D's scores"),
    (PhaseResult(torch.tensor(1.0), logs={"acc": "high"}), "logs['acc'] must be a number"),
    (PhaseResult(torch.tensor(1.0), diagnostics={"m": torch.zeros(3)}), "diagnostics['m'] must be a number"),
    (PhaseResult(torch.zeros(2)), "loss must be a scalar"),
])
def test_phase_results_are_validated_naming_phase_and_shape(result, message):
    with pytest.raises(PluginContractError, match="phase 'critic' of P") as caught:
        check_result("P", "critic", result, 8, 1, True)
    assert message in str(caught.value)


def test_scores_may_be_per_pack_or_flattened_patches_and_are_refused_without_scalar_scores():
    check_result("P", "d", PhaseResult(torch.tensor(1.0), d_real=torch.zeros(4), d_fake=torch.zeros(4)), 8, 2, True)
    check_result("P", "d", PhaseResult(torch.tensor(1.0), d_real=torch.zeros(8 * 9)), 8, 1, True)
    with pytest.raises(PluginContractError, match="scalar_scores is False"):
        check_result("P", "d", PhaseResult(torch.tensor(1.0), d_real=torch.zeros(8)), 8, 1, False)


def test_uniform_and_categorical_are_seeded_and_sharded_like_latent():
    one = TrainingContext(torch.device("cpu"), 3, None)
    u, c = one.uniform(8, 2, low=-2, high=2), one.categorical(8, 10)
    assert u.shape == (8, 2) and -2 <= u.min() and u.max() <= 2 and c.dtype == torch.long and c.max() < 10
    halves = [TrainingContext(torch.device("cpu"), 3, None, rank=r, world=2) for r in range(2)]
    assert torch.equal(torch.cat([h.uniform(4, 2, low=-2, high=2) for h in halves]), u)
    assert torch.equal(torch.cat([h.categorical(4, 10) for h in halves]), c)
    assert torch.equal(one.mean_over_processes(torch.tensor(2.5)), torch.tensor(2.5))


def test_a_plugin_refuses_tricks_with_its_reason_at_configuration_time():
    with pytest.raises(ConfigError, match="pack: infogan does not support it: Q predicts each sample"):
        resolve_run("infogan", dataset="mnist", assignments=["train.tricks.pack=2"])
    with pytest.raises(ConfigError, match="r1_gamma: began does not support it"):
        resolve_run("began", dataset="mnist", assignments=["train.tricks.r1_gamma=1"])


def test_parameter_groups_give_a_head_its_own_learning_rate():
    net = nn.Sequential()
    net.add_module("trunk", nn.Linear(2, 2))
    net.add_module("q", nn.Linear(2, 3))
    groups = parameter_groups(OptimizerSpec(lr=1e-3, param_groups={"q": 5e-4}), net)
    assert [g["lr"] for g in groups] == [1e-3, 5e-4]
    assert groups[1]["params"] == list(net.q.parameters())
    with pytest.raises(ValueError, match=r"\['head'\] name no parameters"):
        parameter_groups(OptimizerSpec(lr=1e-3, param_groups={"head": 5e-4}), net)


class _Plugin:  # what LearningRates reads from a plugin
    def __init__(self, spec):
        self.spec_ = spec

    def optimizers(self):
        return {"D": self.spec_}


def test_plateau_schedule_halves_lr_after_patience_without_a_new_minimum():
    from ganzoo.harness.plugin import Phase

    nets = {"D": nn.Linear(2, 1)}
    spec = OptimizerSpec(lr=1e-3, plateau=PlateauSpec(diagnostic="M_global", factor=0.5, patience=200))
    rates = LearningRates(_Plugin(spec), [Phase("d", lambda *a: None, updates=("D",))], nets, 1000)
    assert rates.observe(100, {"disc/M_global": 1.0}) == []
    assert rates.observe(200, {"disc/M_global": 0.9}) == []  # improved
    assert rates.observe(300, {"disc/M_global": 0.95}) == []
    lowered = rates.observe(400, {"disc/M_global": 0.95})
    assert lowered and rates.optimizers["D"].param_groups[0]["lr"] == pytest.approx(5e-4)
    assert rates.plateau_state()["D"]["factor"] == 0.5


# -- through the trainer: a tiny stateful plugin on the ring --------------------------------------
class CountingGAN(GAN):
    """Counts its applied D steps in plugin state and reports a diagnostic."""

    def initial_state(self):
        return {"applied": 0.0}

    def count(self, nets, result, ctx):
        ctx.state["applied"] = ctx.state["applied"] + 1

    def phases(self):
        d, g = super().phases()
        step = d.step

        def d_step(nets, batch, ctx):
            result = step(nets, batch, ctx)
            result.diagnostics["applied"] = ctx.state["applied"]
            if self.poison and ctx.step == 2:
                result.loss = result.loss * float("nan")
            return result
        return [type(d)(d.name, d_step, d.updates, d.repeats, d.after_update, self.count), g]

    poison = False


@pytest.fixture
def loaded_as():
    import dataclasses

    def make(cls):
        return dataclasses.replace(registry.get("gan"), cls=cls)
    return make


def test_state_changes_only_after_applied_steps_and_reaches_records_summary_and_checkpoint(tmp_path, loaded_as):
    run, _ = resolve_run("gan", dataset="ring", train_overrides={
        "steps": 4, "batch_size": 16, "log_every": 1, "evaluate": False, "sample_every": 0, "nan_patience": 3},
        assignments=["hidden=8"])

    class Poisoned(CountingGAN):
        poison = True

    trainer = Trainer(run, loaded_as(Poisoned), RunDir(tmp_path / "run"), cpu=True, progress=False)
    summary = trainer.fit()
    assert trainer.counters["discriminator/nonfinite_loss"] == 1
    assert trainer.ctx.state["applied"].item() == 3  # 4 iterations, one D step skipped
    assert summary["diagnostics"]["discriminator/applied"] == 2.0  # the value at the last step, not a mean
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["diagnostics"].get("discriminator/applied") for r in records if "losses" in r][:2] == [0.0, 1.0]
    saved = torch.load(trainer.last_checkpoint, weights_only=True)
    assert saved["plugin_state"]["applied"].item() == 3
    assert "Model diagnostics" in (tmp_path / "run" / "report.md").read_text()


def test_an_in_place_change_to_a_tensor_the_loss_used_gets_a_hint(tmp_path, loaded_as):
    class InPlace(GAN):
        def initial_state(self):
            return {"k": 0.5}

        def phases(self):
            d, g = super().phases()
            step = d.step

            def d_step(nets, batch, ctx):
                result = step(nets, batch, ctx)
                scaled = result.loss - ctx.state["k"] * result.loss  # autograd saves k for the backward
                ctx.state["k"].add_(0.1)  # BEGAN's k_t updated the wrong way: in the step, in place
                return PhaseResult(scaled)
            return [type(d)(d.name, d_step, d.updates), g]

    run, _ = resolve_run("gan", dataset="ring", train_overrides={"steps": 1, "batch_size": 16, "evaluate": False},
                         assignments=["hidden=8"])
    trainer = Trainer(run, loaded_as(InPlace), RunDir(tmp_path / "run"), cpu=True, progress=False)
    with pytest.raises(PluginContractError, match="update state in Phase.after_step"):
        trainer.fit()


def test_a_diagnostic_ranks_checkpoints_as_best_metric(tmp_path, loaded_as):
    run, _ = resolve_run("gan", dataset="ring", train_overrides={
        "steps": 4, "batch_size": 16, "log_every": 1, "evaluate": False, "sample_every": 0, "checkpoint_every": 1,
        "best_metric": "max:applied", "keep_checkpoints": 1}, assignments=["hidden=8"])
    trainer = Trainer(run, loaded_as(CountingGAN), RunDir(tmp_path / "run"), cpu=True, progress=False)
    trainer.fit()
    index = json.loads((tmp_path / "run" / "checkpoints" / "index.json").read_text())
    assert index["best"]["metric"] == "applied" and index["best"]["step"] == 4
    assert not math.isnan(index["best"]["value"])
