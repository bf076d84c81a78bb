"""The contract-v3 example (examples/lazy-regularization): lazy R1 every 16 and path-length regularization
every 4, written with interval phases and the step context's helpers, installed as a real distribution. It
passes `ganzoo check`; its path-length average is identical on 2 processes and bit-exact on resume."""

import json
import sys
import struct
from pathlib import Path

import pytest
import torch

from ganzoo.harness.check.conformance import CHECKS, run_checks
from ganzoo.harness.contract import registry
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.contract.errors import ConfigError
from ganzoo.harness.train.trainer import Trainer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lazy-regularization" / "ganzoo_lazyreg.py"


@pytest.fixture
def lazyreg(plugin_site):
    import sys

    sys.modules.pop("ganzoo_lazyreg", None)
    plugin_site("ganzoo-lazyreg", {"lazyreg": "ganzoo_lazyreg:LazyRegGAN"}, {"ganzoo_lazyreg": EXAMPLE.read_text()})
    yield registry.get("lazyreg")
    sys.modules.pop("ganzoo_lazyreg", None)


def test_the_example_passes_every_check_and_its_path_length_average_agrees_across_processes(lazyreg, tmp_path):
    report = run_checks("lazyreg", workdir=tmp_path)
    assert report.ok, report.describe()
    assert all(r.status == "pass" for r in report.results), report.describe()
    assert [r.check for r in report.results] == list(CHECKS)
    assert report.result("build").detail.endswith("phases D → D, D_reg every 16 → D, G → G, G_pl every 4 → G")
    fp32 = report.result("fp32").detail
    assert "32 steps × batch 16 (32 steps, not 4, so that interval phases run twice)" in fp32, fp32
    assert "interval phases: D_reg every 16 ran 2×, G_pl every 4 ran 8×" in fp32, fp32
    assert "plugin state ['pl_mean'] bit-identical after 32 steps" in report.result("data-parallel").detail
    assert "bit for bit" in report.result("resume").detail
    (folder,) = tmp_path.glob("*-data-parallel")
    ranks = [json.loads((folder / f"rank{r}.json").read_text())["state"]["pl_mean"] for r in (0, 1)]
    assert ranks[0] == ranks[1]  # the same bytes on both processes …
    assert struct.unpack("<f", bytes.fromhex(ranks[0]))[0] > 0  # … of an average that moved
    module_doc = sys.modules["ganzoo_lazyreg"].__doc__  # its deviations written once, shown by help()
    assert "Deviations from the paper:\n- MLPs on 2-D points" in module_doc


def make(path, steps, resume=False):
    run, plugin = resolve_run("lazyreg", train_overrides={"steps": steps, "batch_size": 16, "log_every": 4,
                                                          "evaluate": False, "sample_every": 0},
                              assignments=["hidden=16", "depth=2"])
    return Trainer(run, plugin, RunDir(path, resume=resume), cpu=True, progress=False, resume=resume)


def test_its_path_length_average_is_bit_exact_on_resume(lazyreg, tmp_path):
    whole = make(tmp_path / "whole", 22)
    whole.fit()
    make(tmp_path / "split", 10).fit()  # between two path-length steps (8, 12) and two R1 steps (0, 16)
    resumed = make(tmp_path / "split", 22, resume=True)
    resumed.fit()
    assert whole.phase_calls == {"D": 22, "D_reg": 2, "G": 22, "G_pl": 6}
    assert whole.ctx.state["pl_mean"].item() > 0
    assert torch.equal(whole.ctx.state["pl_mean"], resumed.ctx.state["pl_mean"])
    for name in whole.nets:
        for p, q in zip(whole.nets[name].parameters(), resumed.nets[name].parameters()):
            assert torch.equal(p, q)


def test_it_refuses_the_harness_r1_with_its_reason(lazyreg):
    with pytest.raises(ConfigError, match="r1_gamma: lazyreg does not support it: lazyreg applies its own lazy R1"):
        resolve_run("lazyreg", assignments=["train.tricks.r1_gamma=1"])


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_interval_phases_and_the_path_length_penalty_under_mixed_precision(lazyreg, tmp_path, precision):
    run, plugin = resolve_run("lazyreg", train_overrides={"steps": 9, "batch_size": 16, "log_every": 3,
                                                          "evaluate": False, "sample_every": 0, "precision": precision},
                              assignments=["hidden=16", "depth=2"])
    trainer = Trainer(run, plugin, RunDir(tmp_path / "run"), cpu=True, progress=False)
    summary = trainer.fit()
    assert trainer.phase_calls == {"D": 9, "D_reg": 1, "G": 9, "G_pl": 3}
    assert set(trainer.scalers) == {"D", "D_reg", "G", "G_pl"}  # a loss scaler per phase, interval ones included
    assert not any("nonfinite" in key for key in summary["counters"])
    assert torch.isfinite(trainer.ctx.state["pl_mean"]) and trainer.ctx.state["pl_mean"].item() > 0
