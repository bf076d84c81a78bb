"""Generator EMA: averaged weights get BatchNorm statistics of their own before they draw samples."""

import pytest
import torch

from ganzoo.harness.train.ema import batchnorms, standing_batchnorm
from ganzoo.harness.contract.gan_plugin import Networks
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer


def _first_batchnorm_output(plugin, nets, device):
    from ganzoo.harness.contract.context import NoiseSource

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


def _mixture_run(tmp_path, name, **train):
    run, plugin = resolve_run("gan", dataset="ring", train_overrides={
        "steps": 300, "batch_size": 64, "eval_samples": 500, "log_every": 100, "cpu_threads": 1, **train},
        assignments=["hidden=32", "depth=2"])
    return Trainer(run, plugin, RunDir(tmp_path / name), cpu=True, progress=False).fit()


def test_a_lagging_ema_is_reported_beside_the_trained_generator(tmp_path):
    """Without warm-up, an EMA of decay 0.999 over 300 steps is mostly the initial G: it scores worse than
    the trained G. Both are in the summary, each labelled, and `metrics` is the scored one."""
    summary = _mixture_run(tmp_path, "lag", ema_decay=0.999, ema_rampup=None, scored_generator="raw")
    raw, ema = summary["metrics_by_generator"]["raw"], summary["metrics_by_generator"]["ema"]
    assert summary["scored_generator"] == "raw" and summary["metrics"] == raw
    assert raw["modes_captured"] > ema["modes_captured"] and raw["reverse_kl"] < ema["reverse_kl"], (raw, ema)
    report = (tmp_path / "lag" / "report.md").read_text()
    assert "raw (scored)" in report and "| ema |" in report.replace(" |\n", " |\n")


def test_ema_warmup_keeps_the_average_close_to_the_trained_generator(tmp_path):
    from ganzoo.harness.train.ema import GeneratorEMA

    net = torch.nn.Linear(2, 2)
    ramped = GeneratorEMA({"G": net}, ("G",), decay=0.999, rampup=0.05)
    assert ramped.decay_at(0) == 0.0  # the first update copies the trained weights
    assert ramped.decay_at(100) < 0.9  # half-life ≤ 5 steps after 100 steps
    assert ramped.decay_at(1_000_000) == pytest.approx(0.999)
    assert GeneratorEMA({"G": net}, ("G",), decay=0.999).decay_at(1) == 0.999
    summary = _mixture_run(tmp_path, "warm", ema_decay=0.999)
    assert summary["scored_generator"] == "raw"  # the default everywhere, EMA or not; the EMA is scored beside it
    raw, ema = summary["metrics_by_generator"]["raw"], summary["metrics_by_generator"]["ema"]
    assert abs(raw["hq_fraction"] - ema["hq_fraction"]) < 0.3, (raw, ema)
