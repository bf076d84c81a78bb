"""Data parallelism: launching, world-size checks, gradient averaging, sharding, and 2 processes = 1 process."""

import json
import os
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from ganzoo.harness.train.checkpoint import load_networks
from ganzoo.harness.contract.context import TrainingContext
from ganzoo.harness.data.mixtures import MixtureSource
from ganzoo.harness.data.tensor_source import ImageTensorSource
from ganzoo.harness.train.distributed import Distributed
from ganzoo.harness.contract.errors import DistributedError
from ganzoo.harness.train.launch import plan
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer

from .dist_worker import collectives

CPU = torch.device("cpu")


def test_two_cpu_processes_match_one_process_with_the_global_batch(tmp_path):
    """wgan-gp (double-backward penalty, alternating phases) on 2 gloo processes × 32 = 1 process × 64."""
    settings = ["--set", "hidden=16", "--set", "depth=2", "--set", "train.eval_samples=100",
                "--set", "train.log_every=5"]
    out = tmp_path / "two"
    result = subprocess.run(
        [sys.executable, "-m", "ganzoo.harness.cli", "run", "wgan-gp", "--cpu", "--processes", "2", "--steps", "10",
         "--batch-size", "32", "--out", str(out), "--no-progress", *settings],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "2 CPU processes (global batch 2 × 32 = 64)" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["distributed"] == {"processes": 2, "global_batch_size": 64, "replicas_identical": True,
                                      "state_identical": True}  # the plugin state (contract v2) agrees too
    throughput = summary["throughput"]
    assert throughput["global_batch_size"] == 64 and len(throughput["per_process"]) == 2
    assert summary["environment"]["processes"] == 2
    assert not list(out.glob("*.tmp"))

    run, plugin = resolve_run("wgan-gp", train_overrides={"steps": 10, "batch_size": 64, "eval_samples": 100,
                                                          "log_every": 5}, assignments=["hidden=16", "depth=2"])
    single = Trainer(run, plugin, RunDir(tmp_path / "one"), cpu=True, progress=False)
    single.fit()
    _, nets, _ = load_networks(out)
    for name in ("G", "D"):
        for (key, p), q in zip(single.nets[name].named_parameters(), nets[name].parameters()):
            torch.testing.assert_close(q, p.detach(), rtol=0, atol=1e-5, msg=f"{name}.{key}")
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[0]["losses"]["critic/gradient_penalty"] > 0


def test_gradient_averaging_broadcast_and_unused_parameters(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.start_processes(collectives, args=(2, port, str(tmp_path)), nprocs=2, start_method="spawn")
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    assert torch.equal(r0["weight"], r1["weight"])
    assert torch.equal(r0["grad"], r1["grad"])
    torch.testing.assert_close(r0["grad"], (r0["local"] + r1["local"]) / 2)
    assert torch.equal(r0["head_grad"], r1["head_grad"])  # rank 1 contributed zeros for the head
    assert r0["unused_grad"] is None and r1["unused_grad"] is None  # no rank had one: stays None
    assert r0["flags"] == [1.0, 0.0] and not r0["bad"]
    assert r0["identical"] and r1["identical"]
    assert r1["objects"] == [{"rank": 0}, {"rank": 1}] and r1["broadcast"] == "from 0"
    assert r0["nan_detected"] and r1["nan_detected"]


def test_every_rank_gets_its_slice_of_the_global_batch_and_noise():
    whole = MixtureSource("ring", seed=3).next_batch(8).real
    shards = [MixtureSource("ring", seed=3).next_shard(4, rank, 2).real for rank in (0, 1)]
    assert torch.equal(torch.cat(shards), whole)

    images = torch.randint(0, 255, (10, 1, 4, 4), dtype=torch.uint8)
    labels = torch.arange(10)
    full = ImageTensorSource("x", images, labels, seed=1, num_classes=10).next_batch(6)
    parts = [ImageTensorSource("x", images, labels, seed=1, num_classes=10).next_shard(3, rank, 2) for rank in (0, 1)]
    assert torch.equal(torch.cat([p.real for p in parts]), full.real)
    assert torch.equal(torch.cat([p.labels for p in parts]), full.labels)

    single = TrainingContext(CPU, 5, num_classes=10)
    ranks = [TrainingContext(CPU, 5, num_classes=10, rank=r, world=2) for r in (0, 1)]
    assert torch.equal(torch.cat([c.latent(3, 2) for c in ranks]), single.latent(6, 2))
    assert torch.equal(torch.cat([c.random_labels(3) for c in ranks]), single.random_labels(6))
    assert not torch.equal(ranks[0].local.latent(2, 2), ranks[1].local.latent(2, 2))  # per-rank private streams


def test_world_size_must_be_what_was_asked(monkeypatch):
    with pytest.raises(DistributedError, match="asked for 2 processes but the process group has 1"):
        Distributed(0, 1, CPU).check_world_size(2)
    monkeypatch.setenv("GANZOO_EXPECTED_PROCESSES", "4")
    with pytest.raises(DistributedError, match="asked for 4"):
        Distributed(0, 1, CPU).check_world_size()
    monkeypatch.delenv("GANZOO_EXPECTED_PROCESSES")
    Distributed(0, 1, CPU).check_world_size()


@pytest.mark.skipif(torch.cuda.device_count() >= 64, reason="needs a machine with fewer than 64 GPUs")
def test_launch_plans_and_refusals():
    gpus = torch.cuda.device_count()
    with pytest.raises(DistributedError, match=f"asks for 64 GPU\\(s\\) but this machine has {gpus}"):
        plan(gpus=64, processes=None, cpu=False)
    with pytest.raises(DistributedError, match="contradict"):
        plan(gpus=2, processes=None, cpu=True)
    with pytest.raises(DistributedError, match="SyncBatchNorm only runs on GPU"):
        plan(gpus=None, processes=2, cpu=True, sync_batchnorm=True)
    with pytest.raises(DistributedError, match="--main-address"):
        plan(gpus=None, processes=2, cpu=True, num_machines=2)
    assert plan(gpus=None, processes=None, cpu=True) is None
    launch = plan(gpus=None, processes=3, cpu=True, num_machines=2, machine_rank=1, main_address="10.0.0.1")
    assert launch.world_size == 6 and launch.main_port == 29500 and launch.cpu


def test_gpus_on_a_machine_without_enough_gpus_is_a_clear_cli_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", "run", "gan", "--gpus", "64",
                             "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2 and "asks for 64 GPU(s)" in result.stderr
    assert not (tmp_path / "x").exists()
