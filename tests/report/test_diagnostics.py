"""Stability diagnostics and each early-warning rule, on synthetic records and in a real run."""

import json
import math

import pytest
import torch

from ganzoo.harness.report import diagnostics as dg
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer

GAN = dg.RuleContext("minimax", discriminator_phases=("discriminator",), generator_phases=("generator",))
WGAN = dg.RuleContext("wasserstein", discriminator_phases=("critic",), generator_phases=("generator",))


def records(n, losses=None, diagnostics=None, start=100):
    """n training records at steps 100, 200, …; values from functions of the record index."""
    return [{"step": start * (i + 1),
             "losses": {k: f(i) for k, f in (losses or {}).items()},
             "diagnostics": {k: f(i) for k, f in (diagnostics or {}).items()},
             "counters": {}} for i in range(n)]


# -- measurements -------------------------------------------------------------------------------------
def test_discriminator_stats_follow_the_loss_family():
    real, fake = torch.tensor([2.0, 1.0, -1.0, 3.0]), torch.tensor([-2.0, -1.0, 0.5, -3.0])
    stats = dg.discriminator_stats("minimax", real, fake)
    assert stats["accuracy_real"] == 0.75 and stats["accuracy_fake"] == 0.75 and stats["r_t"] == 0.5
    assert stats["p_fake"] == pytest.approx(torch.sigmoid(fake).mean().item())
    ls = dg.discriminator_stats("least_squares", torch.tensor([0.9, 0.4]), torch.tensor([0.1, 0.6]))
    assert ls["accuracy_real"] == 0.5 and ls["accuracy_fake"] == 0.5 and "p_fake" not in ls
    wgan = dg.discriminator_stats("wasserstein", real, fake)
    assert "accuracy_real" not in wgan and wgan["d_real_mean"] == 1.25 and wgan["d_fake_mean"] == -1.375
    assert dg.discriminator_stats("hinge", None, None) == {}


def test_spectral_estimates_match_the_exact_norm():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Conv2d(3, 4, 3),
                              torch.nn.ConvTranspose2d(4, 2, 3))
    estimator = dg.SpectralEstimator({"D": net}, ["D"])
    for _ in range(5):
        sigmas = estimator.estimate()
    rng = torch.get_rng_state()
    estimator.estimate()
    assert torch.equal(rng, torch.get_rng_state())  # never touches the training's random streams
    for key, module in (("spectral/D/0", net[0]), ("spectral/D/2", net[2])):
        exact = torch.linalg.matrix_norm(module.weight.detach().reshape(module.weight.shape[0], -1), ord=2)
        assert sigmas[key] == pytest.approx(exact.item(), rel=1e-3)
    assert "spectral/D/3" in sigmas


def test_a_real_run_records_the_diagnostics(tmp_path):
    settings = {"steps": 8, "batch_size": 32, "log_every": 4, "eval_samples": 100}
    run, plugin = resolve_run("gan", train_overrides=settings,
                              assignments=["hidden=16", "depth=2", "train.spectral_diagnostics=true"])
    Trainer(run, plugin, RunDir(tmp_path), cpu=True, progress=False).fit()
    first = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])
    keys = set(first["diagnostics"])
    assert {"D/grad_norm", "G/grad_norm", "D/weight_norm", "G/weight_norm", "discriminator/accuracy_real",
            "discriminator/accuracy_fake", "discriminator/p_fake", "discriminator/r_t",
            "discriminator/loss_sem", "spectral/D/net.0"} <= keys
    throughput = first["throughput"]
    assert {"images_per_s", "ms_per_discriminator_step", "ms_per_generator_step", "data_share", "peak_memory_mb",
            "global_batch_size"} <= set(throughput)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["warnings"] == [] or all({"code", "step", "message"} <= set(w) for w in summary["warnings"])
    assert summary["throughput"]["processes"] == 1


# -- rules ------------------------------------------------------------------------------------------------
def test_discriminator_wins():
    healthy = records(6, diagnostics={"discriminator/accuracy_real": lambda i: 0.7,
                                      "discriminator/accuracy_fake": lambda i: 0.6,
                                      "discriminator/p_fake": lambda i: 0.4, "G/grad_norm": lambda i: 1.0})
    assert dg.discriminator_wins(healthy, GAN) is None
    winning = records(6, diagnostics={"discriminator/accuracy_real": lambda i: 1.0 if i > 2 else 0.7,
                                      "discriminator/accuracy_fake": lambda i: 1.0 if i > 2 else 0.6,
                                      "discriminator/p_fake": lambda i: 0.001 if i > 2 else 0.4})
    warning = dg.discriminator_wins(winning, GAN)
    assert warning.code == "discriminator_wins" and warning.step == 600 and "since step 400" in warning.message
    vanishing = records(8, diagnostics={"G/grad_norm": lambda i: 1.0 if i < 5 else 1e-6})
    assert "vanishing" in dg.discriminator_wins(vanishing, WGAN).message


def test_divergence():
    steady = records(6, losses={"critic/loss": lambda i: -0.5 + 0.1 * i}, diagnostics={"D/weight_norm": lambda i: 5.0})
    assert dg.divergence(steady, WGAN) is None
    blowup = records(6, losses={"critic/loss": lambda i: 1e5 if i == 5 else -0.5})
    assert "diverging" in dg.divergence(blowup, WGAN).message
    inf = records(6, losses={"critic/loss": lambda i: math.inf if i == 5 else -0.5})
    assert "critic/loss is inf" in dg.divergence(inf, WGAN).message
    growing = records(6, losses={"critic/loss": lambda i: 0.1}, diagnostics={"D/weight_norm": lambda i: 5.0 * 2**i})
    assert "weights grew" in dg.divergence(growing, WGAN).message


def test_oscillation():
    noisy = records(20, losses={"critic/loss": lambda i: [0.3, -0.2, 0.1, -0.4, 0.2][i % 5] * 0.01},
                    diagnostics={"critic/loss_sem": lambda i: 0.01})
    assert dg.oscillation(noisy, WGAN) is None
    swinging = records(20, losses={"critic/loss": lambda i: 2.0 * math.sin(i * math.pi / 3)},
                       diagnostics={"critic/loss_sem": lambda i: 0.01})
    warning = dg.oscillation(swinging, WGAN)
    assert warning.code == "oscillation" and "critic loss oscillates" in warning.message
    trend = records(20, losses={"critic/loss": lambda i: float(i)}, diagnostics={"critic/loss_sem": lambda i: 0.01})
    assert dg.oscillation(trend, WGAN) is None


def test_mode_coverage_falling():
    def evals(modes, kls):
        return [{"step": 500 * (i + 1), "metrics": {"modes_captured": m, "reverse_kl": k}}
                for i, (m, k) in enumerate(zip(modes, kls))]
    assert dg.mode_coverage_falling(evals([5, 7, 8, 8], [0.5, 0.2, 0.05, 0.04]), GAN) is None
    warning = dg.mode_coverage_falling(evals([6, 8, 7, 5], [0.4, 0.05, 0.1, 0.3]), GAN)
    assert warning.step == 2000 and "8 modes at step 1000, 5 now" in warning.message
    kl = dg.mode_coverage_falling(evals([8, 8, 8], [0.02, 0.05, 0.6]), GAN)
    assert "reverse KL rose" in kl.message


def test_skipped_steps_and_fp16_overflow():
    history = [{"step": 200, "losses": {}, "counters": {"critic/nonfinite_loss": 3}}]
    assert "critic/nonfinite_loss 3" in dg.skipped_steps(history, WGAN).message
    assert dg.skipped_steps([{"step": 200, "losses": {}, "counters": {"critic/amp_skipped": 2}}], WGAN) is None
    assert dg.skipped_steps([{"step": 200, "losses": {}, "counters": {"critic/amp_skipped": 90}}],
                            WGAN).code == "fp16_overflow"


def test_each_warning_is_issued_once():
    tracker = dg.EarlyWarnings(GAN)
    history = [{"step": 100, "losses": {}, "counters": {"discriminator/nonfinite_loss": 1}}]
    assert [w.code for w in tracker.check(history)] == ["non_finite"]
    history.append({"step": 200, "losses": {}, "counters": {"discriminator/nonfinite_loss": 2}})
    assert tracker.check(history) == []
    restored = dg.EarlyWarnings(GAN)
    restored.load_state_dict(tracker.state_dict())
    assert restored.issued == tracker.issued


def test_oscillation_needs_a_noise_estimate_and_log_every_1_has_none(tmp_path):
    swinging = records(20, losses={"critic/loss": lambda i: 2.0 * math.sin(i * math.pi / 3)},
                       diagnostics={"critic/loss_sem": lambda i: 0.0})  # what one-step windows used to record
    assert dg.oscillation(swinging, WGAN) is None  # never "1e12× its noise"
    settings = {"steps": 3, "batch_size": 16, "log_every": 1, "evaluate": False, "sample_every": 0}
    run, plugin = resolve_run("gan", train_overrides=settings, assignments=["hidden=8"])
    Trainer(run, plugin, RunDir(tmp_path), cpu=True, progress=False).fit()
    first = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])
    assert "discriminator/loss" in first["losses"] and "discriminator/loss_sem" not in first["diagnostics"]
