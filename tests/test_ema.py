"""Generator EMA: averaged weights get BatchNorm statistics of their own before they draw samples."""

import torch

from ganzoo.harness.ema import batchnorms, standing_batchnorm
from ganzoo.harness.plugin import Networks
from ganzoo.harness.resolve import resolve_run
from ganzoo.harness.rundir import RunDir
from ganzoo.harness.trainer import Trainer


def _first_batchnorm_output(plugin, nets, device):
    from ganzoo.harness.context import NoiseSource

    (norm,) = batchnorms(nets, plugin.generators)[:1]
    seen = []
    handle = norm.register_forward_hook(lambda module, inputs, output: seen.append(output.clone()))  # before an in-place ReLU
    nets["G"].eval()
    with torch.no_grad():
        plugin.sample(nets, NoiseSource(device, 99), 512, None)
    handle.remove()
    return seen[0].transpose(0, 1).flatten(1)  # channels × everything else


def test_standing_statistics_match_the_averaged_weights(tmp_path, shared_data):
    run, plugin = resolve_run("dcgan", dataset="mnist", train_overrides={
        "steps": 2, "batch_size": 16, "eval_samples": 64, "ema_decay": 0.9, "resolution": 16},
        assignments=["base_channels=8"])
    trainer = Trainer(run, plugin, RunDir(tmp_path), data_dir=shared_data, cpu=True, progress=False)
    averaged = Networks({**trainer.nets, **trainer.ema.averaged})
    with torch.no_grad():  # what averaging can do: weights whose activations the copied statistics do not fit
        for module in trainer.ema.averaged["G"].modules():
            if isinstance(module, (torch.nn.ConvTranspose2d, torch.nn.Linear)):
                module.weight.mul_(10)
                break
    stale = _first_batchnorm_output(trainer.plugin, averaged, trainer.device)
    assert stale.std(dim=1).mean() > 1.5  # normalised with the live G's statistics: far from unit scale
    rng = torch.get_rng_state()
    standing_batchnorm(trainer.plugin, averaged, ("G",), trainer.device, seed=1)
    assert torch.equal(rng, torch.get_rng_state())  # training's random stream is not consumed
    fresh = _first_batchnorm_output(trainer.plugin, averaged, trainer.device)
    assert fresh.mean(dim=1).abs().max() < 0.2 and (fresh.std(dim=1) - 1).abs().max() < 0.1
    assert all(module.momentum == 0.1 for module in batchnorms(averaged, ("G",)))
