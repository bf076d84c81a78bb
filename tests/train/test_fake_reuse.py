"""A phase may hand its generated batch to a later phase of the same iteration (DCGAN's G step reuses the
D step's fakes): one G forward per iteration, still bit-exact on resume, and misuse is a clear error."""

import pytest
import torch

from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.contract.errors import PluginContractError
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.trainer import Trainer

from .test_resume import assert_same_state


def make(tmp_path, data, steps=4, extra=(), resume=False, **overrides):
    settings = {"steps": steps, "batch_size": 16, "log_every": 2, "evaluate": False, "sample_every": 0, **overrides}
    run, plugin = resolve_run("dcgan", dataset="mnist", train_overrides=settings,
                              assignments=["base_channels=8", *extra])
    return Trainer(run, plugin, RunDir(tmp_path, resume=resume), data_dir=data, cpu=True, progress=False,
                   resume=resume)


def g_forwards(trainer: Trainer, iterations: int) -> int:
    calls = []
    handle = trainer.nets.G.register_forward_hook(lambda *args: calls.append(1))
    for _ in range(iterations):
        trainer.train_iteration()
    handle.remove()
    return len(calls)


@pytest.mark.parametrize(("reuse", "forwards"), [(True, 1), (False, 2)])
def test_dcgan_runs_g_forward_once_per_iteration_when_reusing(tmp_path, shared_data, reuse, forwards):
    trainer = make(tmp_path, shared_data, extra=[f"reuse_fakes={str(reuse).lower()}"])
    assert trainer.phases[0].keeps_graph == (("G",) if reuse else ())
    assert g_forwards(trainer, 3) == 3 * forwards
    assert trainer.ctx.take("fake") is None  # the stash never outlives its iteration


def test_reused_fakes_give_g_the_gradient_of_the_d_step_batch(tmp_path, shared_data):
    """G's update with reuse equals the update from the same z drawn afresh (the graph kept is G's own)."""
    a = make(tmp_path / "a", shared_data)
    b = make(tmp_path / "b", shared_data, extra=["reuse_fakes=false"])
    a.train_iteration()
    # b: same D step; then make b's G step draw the very z the D step drew (rewind the noise stream)
    state = b.ctx.generator.get_state()
    b._set_trainable(("D",))
    b._run_phase(b.phases[0], False)
    b.ctx.generator.set_state(state)
    b._set_trainable(("G",))
    b._run_phase(b.phases[1], False)
    for p, q in zip(a.nets.G.parameters(), b.nets.G.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_resume_with_reuse_is_bit_exact(tmp_path, shared_data):
    whole = make(tmp_path / "whole", shared_data, steps=6)
    whole.fit()
    make(tmp_path / "split", shared_data, steps=3).fit()
    resumed = make(tmp_path / "split", shared_data, steps=6, resume=True)
    resumed.fit()
    assert_same_state(whole, resumed)


def test_a_d_step_that_backpropagates_into_a_kept_graph_is_refused(tmp_path, shared_data):
    trainer = make(tmp_path, shared_data)
    plugin = trainer.plugin

    def leaky_step(nets, batch, ctx):  # forgets fake.detach()
        fake = plugin.sample(nets, ctx, len(batch))
        ctx.stash("fake", (fake, None))
        return type(plugin.discriminator_step(nets, batch, ctx))(nets.D(fake).mean())

    trainer.phases[0] = type(trainer.phases[0])(
        "discriminator", leaky_step, updates=("D",), keeps_graph=("G",))
    with pytest.raises(PluginContractError, match="detach"):
        trainer.train_iteration()
