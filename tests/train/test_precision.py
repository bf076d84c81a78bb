"""Mixed precision: bf16/fp16 runs, one GradScaler per phase, counted skips, and the AMP recipe for penalties."""

import pytest
import torch

from ganzoo.harness.contract.penalties import gradient_penalty, r1_penalty
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer

TINY = ["hidden=16", "depth=2"]


def make(tmp_path, precision, model="wgan-gp", steps=10, extra=(), **train):
    settings = {"steps": steps, "batch_size": 32, "log_every": 5, "eval_samples": 100, "precision": precision, **train}
    run, plugin = resolve_run(model, train_overrides=settings, assignments=[*TINY, *extra])
    return Trainer(run, plugin, RunDir(tmp_path), cpu=True, progress=False)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_runs_are_finite(tmp_path, precision):
    trainer = make(tmp_path, precision, extra=["train.tricks.r1_gamma=1.0"] if precision == "fp16" else [])
    summary = trainer.fit()
    records = [r for r in trainer.run_dir.read_metrics() if "losses" in r]
    assert all(torch.isfinite(torch.tensor(list(r["losses"].values()))).all() for r in records)
    assert all(torch.isfinite(p).all() for net in trainer.nets.values() for p in net.parameters())
    assert not any("nonfinite" in key for key in summary["counters"])
    scalers = list(trainer.scalers.values())
    assert len({id(s) for s in scalers}) == len(scalers) == 2  # one per phase, never shared
    assert all(s.is_enabled() == (precision == "fp16") for s in scalers)
    assert summary["precision"]["mode"] == precision
    if precision == "fp16":
        assert {"critic/loss_scale", "generator/loss_scale"} <= set(records[-1]["diagnostics"])


def test_fp16_overflow_skips_are_counted_per_phase(tmp_path):
    trainer = make(tmp_path, "fp16", steps=6)
    huge = 2.0**40  # the critic's penalty overflows until its own scale has come down
    trainer.scalers["critic"] = torch.amp.GradScaler("cpu", init_scale=huge)
    trainer._scales["critic"] = huge
    generator_scale = trainer._scales["generator"]
    summary = trainer.fit()
    skipped = summary["counters"]["critic/amp_skipped"]
    assert skipped >= 10  # 2^40 → 2^15 or below takes at least 25 halvings over 30 critic steps … or most of them
    assert trainer.scalers["critic"].get_scale() == huge / 2**skipped
    assert summary["counters"].get("generator/amp_skipped", 0) <= 1
    assert trainer.scalers["generator"].get_scale() >= generator_scale / 2
    assert summary["precision"]["amp_skipped"] == sum(v for k, v in summary["counters"].items() if "amp" in k)
    assert not any("nonfinite" in key for key in summary["counters"])  # overflow is the scaler's, not a NaN
    assert all(torch.isfinite(p).all() for p in trainer.nets.D.parameters())


def test_penalties_use_the_scaled_gradient_recipe():
    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 1))
    real, fake = torch.randn(64, 2), torch.randn(64, 2)

    def tiny_critic(x):  # input gradients around 1e-7: they underflow in fp16 unless scaled
        return D(x).float() * 1e-7

    reference = r1_penalty(tiny_critic, real)
    with torch.autocast("cpu", dtype=torch.float16):
        unscaled = r1_penalty(tiny_critic, real)
        scaled = r1_penalty(tiny_critic, real, scale=2.0**15)
    assert unscaled.item() == 0.0  # what fp16 does without the recipe
    torch.testing.assert_close(scaled, reference, rtol=1e-2, atol=0)

    # the scale cancels exactly in fp32, and the penalty's parameter gradients match fp32 under fp16
    gp = {}
    for name, scale, dtype in (("fp32", 1.0, None), ("fp32 scaled", 1024.0, None), ("fp16", 2.0**12, torch.float16)):
        D.zero_grad()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            penalty = gradient_penalty(D, real, fake, scale=scale, generator=torch.Generator().manual_seed(1))
        (penalty * scale).backward()
        gp[name] = (penalty.detach(), [p.grad / scale for p in D.parameters() if p.grad is not None])
    torch.testing.assert_close(gp["fp32 scaled"][0], gp["fp32"][0], rtol=1e-6, atol=0)
    torch.testing.assert_close(gp["fp16"][0], gp["fp32"][0], rtol=2e-2, atol=0)
    for p16, p32 in zip(gp["fp16"][1], gp["fp32"][1]):
        torch.testing.assert_close(p16, p32, rtol=5e-2, atol=5e-3)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_wgan_gp_mode_coverage_matches_fp32(tmp_path, precision):
    """The wgan-gp/ring preset (2,000 steps): mixed precision covers as many modes as fp32 (±1), HQ within 15 pts."""
    results = {}
    for mode in ("fp32", precision):
        run, plugin = resolve_run("wgan-gp", dataset="ring", train_overrides={"precision": mode, "log_every": 500})
        results[mode] = Trainer(run, plugin, RunDir(tmp_path / mode), cpu=True, progress=False).fit()["metrics"]
    assert results[precision]["modes_captured"] >= results["fp32"]["modes_captured"] - 1
    assert abs(results[precision]["hq_fraction"] - results["fp32"]["hq_fraction"]) < 0.15
