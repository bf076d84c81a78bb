"""One training iteration through the harness vs a hand-written PyTorch loop with the same networks.

Both sides run on one torch thread (fair on a shared machine) and use the plugin's own networks, the same optimizers, batch, precision and losses; the
plain loop is what a careful user would write by hand (fixed in-memory data, no diagnostics).
``bench/conftest.py`` prints the harness/plain throughput ratio per group after the run.

    pytest bench/test_bench_training_step.py --benchmark-only
"""

from __future__ import annotations

import contextlib

import pytest
import torch
import torch.nn.functional as F

from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer

from .conftest import SHARED_DATA

CASES = {  # group -> (model, dataset, batch, precision, overrides)
    "gan-ring-fp32": ("gan", "ring", 256, "fp32", []),
    "dcgan-mnist-fp32": ("dcgan", "mnist", 64, "fp32", []),
    "dcgan-mnist-bf16": ("dcgan", "mnist", 64, "bf16", []),
}


def make_trainer(tmp_path, model, dataset, batch, precision, overrides):
    if dataset == "mnist" and not (SHARED_DATA / "mnist").exists():
        pytest.skip(f"needs MNIST in {SHARED_DATA}")
    run, plugin = resolve_run(model, dataset=dataset, train_overrides={
        "steps": 10, "batch_size": batch, "precision": precision, "cpu_threads": 1, "log_every": 10**6},
        assignments=overrides)
    return Trainer(run, plugin, RunDir(tmp_path), data_dir=SHARED_DATA, cpu=True, progress=False)


def plain_loop(trainer: Trainer):
    """A hand-written GAN iteration (non-saturating BCE, D then G) over the same networks and data."""
    G, D = (net for net in (trainer.nets.G, trainer.nets.D))
    for net in (G, D):
        net.requires_grad_(True)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), foreach=True)
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), foreach=True)
    data = trainer.source.reference(min(4096, 16 * trainer.run.train.batch_size), seed=0).real
    batch, latent = trainer.run.train.batch_size, trainer.plugin.config.latent_dim
    dtype = trainer.precision.dtype
    autocast = (lambda: torch.autocast("cpu", dtype=dtype)) if dtype else contextlib.nullcontext

    def iteration():
        real = data[torch.randint(len(data), (batch,))]
        with autocast():
            fake = G(torch.randn(batch, latent)).detach()
            real_out, fake_out = D(real), D(fake)
            loss_d = (F.binary_cross_entropy_with_logits(real_out.float(), torch.ones_like(real_out.float()))
                      + F.binary_cross_entropy_with_logits(fake_out.float(), torch.zeros_like(fake_out.float())))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        with autocast():
            out = D(G(torch.randn(batch, latent))).float()
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

    return iteration


@pytest.mark.parametrize("group", sorted(CASES))
def test_harness_iteration(benchmark, tmp_path, group):
    trainer = make_trainer(tmp_path, *CASES[group])
    benchmark.group = group
    benchmark.extra_info.update(side="harness", batch=CASES[group][2])
    benchmark.pedantic(trainer.train_iteration, rounds=30, warmup_rounds=3)


@pytest.mark.parametrize("group", sorted(CASES))
def test_plain_iteration(benchmark, tmp_path, group):
    trainer = make_trainer(tmp_path, *CASES[group])
    benchmark.group = group
    benchmark.extra_info.update(side="plain", batch=CASES[group][2])
    benchmark.pedantic(plain_loop(trainer), rounds=30, warmup_rounds=3)
