"""The harness loop on the 2-D models: run directory contents, determinism, EMA, contract checks."""

import json

import pytest
import torch

from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.contract.errors import RunDirError
from ganzoo.harness.train.trainer import Trainer

TINY = ["hidden=16", "depth=2"]


def train(tmp_path, model="wgan-gp", steps=12, extra=(), **overrides):
    run, plugin = resolve_run(model, train_overrides={"steps": steps, "log_every": 4, "eval_samples": 200,
                                                      **overrides}, assignments=[*TINY, *extra])
    trainer = Trainer(run, plugin, RunDir(tmp_path), cpu=True, progress=False)
    return trainer, trainer.fit()


def test_run_directory_has_config_metrics_summary_and_plot(tmp_path):
    _, summary = train(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model"] == "wgan-gp" and config["params"]["hidden"] == 16 and config["train"]["steps"] == 12
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records[:3]] == [4, 8, 12]
    assert set(records[0]["losses"]) >= {"critic/loss", "critic/gradient_penalty", "generator/loss"}
    assert "D/grad_norm" in records[0]["diagnostics"] and "G/grad_norm" in records[0]["diagnostics"]
    assert records[-1]["metrics"]["n_samples"] == 200
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert set(saved["metrics"]) == {"modes_captured", "modes_total", "hq_fraction", "reverse_kl", "n_samples"}
    assert saved["throughput"]["images_per_s"] > 0 and saved["environment"]["torch"] == torch.__version__
    assert summary["steps"] == 12
    assert (tmp_path / "samples" / "final.png").stat().st_size > 1000


def test_same_seed_same_weights_different_seed_differs(tmp_path):
    first, _ = train(tmp_path / "a", model="gan")
    second, _ = train(tmp_path / "b", model="gan")
    third, _ = train(tmp_path / "c", model="gan", seed=1)
    for name in ("G", "D"):
        for p, q in zip(first.nets[name].parameters(), second.nets[name].parameters()):
            assert torch.equal(p, q)
    assert not torch.equal(next(first.nets.G.parameters()), next(third.nets.G.parameters()))


def test_phase_repeats_and_frozen_networks(tmp_path):
    trainer, _ = train(tmp_path, steps=3, extra=["n_critic=4"])
    assert trainer.phase_calls == {"critic": 12, "generator": 3}


def test_ema_generator_is_used_for_sampling(tmp_path):
    trainer, _ = train(tmp_path, model="gan", ema_decay=0.9)
    averaged = trainer.sampling_networks().G
    assert averaged is not trainer.nets.G
    assert not torch.equal(next(averaged.parameters()), next(trainer.nets.G.parameters()))


def test_existing_run_directory_is_not_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    with pytest.raises(RunDirError, match="--resume"):
        RunDir(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_minimax_generator_loss_and_grid_run(tmp_path):
    run, plugin = resolve_run("gan", dataset="grid", train_overrides={"steps": 2, "eval_samples": 50},
                              assignments=[*TINY, "generator_loss=minimax"])
    summary = Trainer(run, plugin, RunDir(tmp_path), cpu=True, progress=False).fit()
    assert summary["metrics"]["modes_total"] == 25


def test_report_md_shows_its_plots(tmp_path):
    import re

    train(tmp_path, model="gan", steps=8, eval_every=4)
    text = (tmp_path / "report.md").read_text()
    assert "# gan on ring" in text and "## Final metrics" in text and "modes_captured" in text
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert "plots/losses.png" in images and "samples/final.png" in images
    assert all((tmp_path / image).stat().st_size > 1000 for image in images)
    from ganzoo.harness.report.markdown import write_html

    html = write_html(tmp_path).read_text()
    assert "<table>" in html and "modes_captured" in html and 'src="plots/' not in html
    assert html.count('src="data:image/png;base64,') == len(images)  # one file: every image embedded
