"""``StepContext.optimizer_state``: a step reads the harness optimizers' state (Unrolled GAN's lookahead
continues D's Adam from it), as copies, by the names the step's own module gives its parameters."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.harness.contract.context import TrainingContext
from ganzoo.harness.contract.tricks_config import TricksConfig
from ganzoo.harness.train.tricks import DiscriminatorView
from ganzoo.zoo.gan import GAN

from .test_v3 import trainer_for


def stepped_adam(net: nn.Module, steps: int) -> torch.optim.Adam:
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4, betas=(0.5, 0.99), eps=1e-7)
    for _ in range(steps):
        optimizer.zero_grad()
        net(torch.randn(8, 3)).square().mean().backward()
        optimizer.step()
    return optimizer


def test_optimizer_state_gives_adams_moments_as_copies_by_parameter_name():
    torch.manual_seed(0)
    net, other = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), nn.Linear(3, 1)
    ctx = TrainingContext(torch.device("cpu"), 0, None)
    ctx.optimizers = [stepped_adam(net, 0), stepped_adam(other, 1)]
    fresh = ctx.optimizer_state(net)
    assert set(fresh) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert all(s.step == 0 and s.exp_avg is None and s.exp_avg_sq is None for s in fresh.values())
    assert {(s.kind, s.lr, s.betas, s.eps) for s in fresh.values()} == {("adam", 3e-4, (0.5, 0.99), 1e-7)}

    ctx.optimizers[0] = stepped_adam(net, 3)
    state = ctx.optimizer_state(net)
    slots = ctx.optimizers[0].state[net[0].weight]
    assert state["0.weight"].step == 3
    assert torch.equal(state["0.weight"].exp_avg, slots["exp_avg"])
    assert torch.equal(state["0.weight"].exp_avg_sq, slots["exp_avg_sq"])
    state["0.weight"].exp_avg.zero_()  # a copy: the optimizer's moment is untouched
    assert slots["exp_avg"].abs().sum() > 0


def test_optimizer_state_follows_the_discriminator_view_and_skips_unstepped_parameters():
    torch.manual_seed(0)
    net, loose = nn.Linear(3, 1), nn.Linear(3, 1)
    ctx = TrainingContext(torch.device("cpu"), 0, None)
    ctx.optimizers = [stepped_adam(net, 2)]
    view = DiscriminatorView(net, TricksConfig(instance_noise=0.1), ctx.local)
    state = ctx.optimizer_state(view)
    assert set(state) == {"inner.weight", "inner.bias"} and state["inner.weight"].step == 2
    assert ctx.optimizer_state(loose) == {}


seen: list[int] = []


class WatchingGAN(GAN):
    """Records, in each G step, how many steps D's optimizer has taken (D steps first in every iteration)."""

    def generator_step(self, nets, batch, ctx):
        state = ctx.optimizer_state(nets.D)
        seen.append(min(s.step for s in state.values()))
        assert all(s.kind == "adam" and s.exp_avg is not None for s in state.values())
        return super().generator_step(nets, batch, ctx)


def test_the_trainer_offers_the_runs_optimizers_to_steps(tmp_path):
    seen.clear()
    trainer_for(tmp_path / "run", WatchingGAN, steps=4).fit()
    assert seen == [1, 2, 3, 4]
