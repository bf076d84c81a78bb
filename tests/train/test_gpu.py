"""CUDA paths (`pytest -m gpu`, run by bench/gpu_check.sh): skipped with the reason on a machine without CUDA.

CUDA-event phase timings; fp16 with one GradScaler per phase, with the WGAN-GP and R1 penalties; bf16;
SyncBatchNorm; channels_last and fused Adam on CUDA; torch.compile; in-memory images on the GPU; two
processes sharing one GPU over gloo.
"""

import socket

import numpy as np
import pytest
import torch

from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.trainer import Trainer

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA: these run on a GPU machine (bash bench/gpu_check.sh OUT)")]


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """128 random 32×32 RGB images: a folder:PATH dataset that needs no download."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(128):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def trainer(tmp_path, model, dataset, steps=6, extra=(), **train):
    settings = {"steps": steps, "batch_size": 16, "log_every": 2, "evaluate": False, "sample_every": 0, **train}
    run, plugin = resolve_run(model, dataset=dataset, train_overrides=settings, assignments=list(extra))
    return Trainer(run, plugin, RunDir(tmp_path), progress=False)


def finite(summary) -> bool:
    return not any(key.endswith(("nonfinite_loss", "nonfinite_grad")) for key in summary["counters"])


def test_phase_times_come_from_cuda_events(tmp_path):
    t = trainer(tmp_path, "gan", "ring", steps=8)
    assert t.device.type == "cuda" and t.throughput.phases.cuda
    summary = t.fit()
    for phase in ("discriminator", "generator"):
        assert summary["throughput"][f"ms_per_{phase}_step"] > 0
    assert summary["throughput"]["peak_memory_mb"] > 0


@pytest.mark.parametrize(("model", "extra"), [("wgan-gp", []), ("gan", ["train.tricks.r1_gamma=1.0"])])
def test_fp16_one_scaler_per_phase_with_gradient_penalties(tmp_path, model, extra):
    t = trainer(tmp_path, model, "ring", steps=10, extra=extra, precision="fp16")
    scalers = list(t.scalers.values())
    assert len(scalers) == 2 and scalers[0] is not scalers[1] and all(s.is_enabled() for s in scalers)
    summary = t.fit()
    assert finite(summary), summary["counters"]
    for net in t.nets.values():
        assert all(torch.isfinite(p).all() for p in net.parameters())


def test_bf16_dcgan_channels_last_fused_adam_and_data_on_the_gpu(tmp_path, image_folder):
    t = trainer(tmp_path, "dcgan", f"folder:{image_folder}", extra=["base_channels=8"], precision="bf16",
                resolution=32)
    conv = next(p for p in t.nets.D.parameters() if p.dim() == 4)
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert t.optimizers["D"].defaults.get("fused") is True
    assert t.source.images.device.type == "cuda"
    assert finite(t.fit())


def test_sync_batchnorm_is_accepted_on_cuda(tmp_path, image_folder):
    t = trainer(tmp_path, "dcgan", f"folder:{image_folder}", extra=["base_channels=8"], resolution=32,
                sync_batchnorm=True)
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in t.nets.G.modules())
    assert finite(t.fit())


def test_compile_trains_and_keeps_checkpoint_keys(tmp_path, image_folder):
    t = trainer(tmp_path, "dcgan", f"folder:{image_folder}", extra=["base_channels=8"], resolution=32,
                precision="bf16", compile=True)
    assert finite(t.fit())
    assert not any("_orig_mod" in key for key in t.nets.G.state_dict())


def test_two_processes_share_one_gpu_over_gloo(tmp_path):
    import torch.multiprocessing as mp

    from .gpu_worker import shared_gpu

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(shared_gpu, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for a, b, g0, g1 in zip(r0["averaged"], r1["averaged"], r0["local"], r1["local"]):
        assert torch.equal(a, b) and torch.allclose(a, (g0 + g1) / 2)
    assert r0["flags"] == [1.0] and not r0["bad"] and r0["identical"]
