"""The Python API (`import ganzoo`, harness/api): runs, generators, catalogs, typed errors with the CLI's messages."""

import json
import os
import subprocess
import sys

import pytest
import torch

import ganzoo
from ganzoo.harness.evaluation.sampling import generate
from ganzoo.harness.metrics.mixture import mixture_scores
from ganzoo.harness.train.checkpoint import load_networks

from ..api_helpers import EVAL_SAMPLES, SEED, points_run


def cli(*args):
    return subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})


def test_errors_are_typed_and_carry_the_commands_message(tmp_path):
    with pytest.raises(ganzoo.RegistryError, match="unknown model 'wgan_gp'.*wgan-gp") as error:
        ganzoo.train("wgan_gp")
    assert isinstance(error.value, ganzoo.GanzooError) and isinstance(error.value, LookupError)
    with pytest.raises(ganzoo.ConfigError, match="gp_weight.*greater than or equal to 0") as error:
        ganzoo.train("wgan-gp", out=tmp_path / "x", gp_weight=-1)
    assert isinstance(error.value, ValueError) and not (tmp_path / "x").exists()
    command = cli("run", "wgan-gp", "--set", "gp_weight=-1", "--out", str(tmp_path / "x"))
    assert command.returncode == 2 and str(error.value).splitlines()[0] in command.stderr  # the same line
    with pytest.raises(ganzoo.DataError, match="unknown dataset 'rign'.*ring"):
        ganzoo.train("gan", "rign")
    with pytest.raises(ganzoo.TrackerError, match="unknown tracker 'tensorbored'"):
        ganzoo.train("gan", out=tmp_path / "y", steps=1, log_with="tensorbored", cpu=True)
    with pytest.raises(ganzoo.ConfigError, match="not a number, string"):
        ganzoo.train("gan", hidden=object())
    with pytest.raises(ganzoo.RunDirError, match="not a run directory"):
        ganzoo.Run(tmp_path)
    assert issubclass(ganzoo.PresetError, ganzoo.ConfigError) and issubclass(ganzoo.ArtifactError, ganzoo.CheckpointError)
    assert issubclass(ganzoo.SamplesError, ganzoo.DataError)


def test_train_returns_a_run_with_config_summary_and_history(tmp_path_factory):
    run = points_run(tmp_path_factory)
    assert run.status == "completed" and repr(run).startswith("<ganzoo.Run gan on grid: completed")
    assert run.config["train"]["ema_decay"] == 0.9 and run.config["params"]["hidden"] == 16  # overrides applied
    assert run.config["train"]["seed"] == SEED and run.metrics["n_samples"] == EVAL_SAMPLES
    assert [r["step"] for r in run.history() if "losses" in r] == [20, 40, 60]
    assert "modes_captured" in run._repr_markdown_()
    assert ganzoo.Run(run.path).summary == run.summary and os.fspath(run) == str(run.path)


def test_dotted_and_nested_overrides_reach_the_config(tmp_path):
    run = ganzoo.train("gan", "ring", steps=2, batch_size=8, out=tmp_path / "r", cpu=True, progress=False, hidden=8,
                       train={"evaluate": False}, **{"train.tricks.pack": 2})
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["train"]["tricks"]["pack"] == 2 and config["train"]["evaluate"] is False and run.metrics == {}


def test_generator_samples_are_the_runs_own(tmp_path_factory):
    """Same seed → same samples as `ganzoo sample`'s path, and as the run's final evaluation (its metrics)."""
    run = points_run(tmp_path_factory)
    g = ganzoo.load(run, which="ema")
    assert g.which == "ema" and g.shape == (2,) and g.num_classes is None and g.step == 60
    assert ganzoo.load(run).which == "raw"  # the trained generator: the default of every command
    plugin, nets, ema = load_networks(run.path)
    assert torch.equal(g.sample(64, seed=5), generate(plugin, ema, 64, 5, torch.device("cpu")))
    raw = ganzoo.load(run.path, which="raw")
    assert torch.equal(raw.sample(64, seed=5), generate(plugin, nets, 64, 5, torch.device("cpu")))
    from ganzoo.harness.data.mixtures import MIXTURES
    from ganzoo.harness.train.evaluator import EVAL_SEED_OFFSET

    centers, std = MIXTURES["grid"]
    for generator, label in ((g, "ema"), (raw, "raw")):
        points = generator.sample(EVAL_SAMPLES, seed=SEED + EVAL_SEED_OFFSET)
        assert mixture_scores(points, centers, std).as_dict()["hq_fraction"] == \
            run.summary["metrics_by_generator"][label]["hq_fraction"]
    assert g.to("cpu") is g and str(g.device) == "cpu"


def test_generator_refuses_what_the_cli_refuses(tmp_path_factory):
    g = ganzoo.load(points_run(tmp_path_factory))
    with pytest.raises(ganzoo.SampleError, match="needs a class-conditional model; gan is unconditional"):
        g.sample(4, labels=1)
    with pytest.raises(ganzoo.SampleError, match="at least 1"):
        g.sample(0)
    with pytest.raises(ganzoo.SampleError, match="'ema' or 'raw'"):
        ganzoo.load(points_run(tmp_path_factory), which="average")
    with pytest.raises(ganzoo.CheckpointError, match="kept no EMA generator"):
        ganzoo.load(points_run(tmp_path_factory, ema=False), which="ema")


def test_catalog_functions():
    models = ganzoo.models()
    assert {"gan", "wgan-gp", "dcgan"} <= set(models) and models["wgan-gp"].arxiv == "1704.00028"
    assert ganzoo.presets("gan")["gan/ring"].dataset == "ring" and "wgan-gp/ring" in ganzoo.presets()
    with pytest.raises(ganzoo.RegistryError, match="unknown model 'ganz'"):
        ganzoo.presets("ganz")
    assert {"ring", "grid", "mnist", "cifar10", "folder:PATH"} <= set(ganzoo.datasets())


def test_progress_needs_no_terminal(tmp_path, capfd):
    """Off a terminal (a pipe, a notebook without widgets) progress is plain lines, every 10 % of the steps."""
    ganzoo.train("gan", "ring", steps=20, batch_size=8, out=tmp_path / "p", cpu=True, hidden=8,
                 train={"log_every": 10, "evaluate": False})
    err = capfd.readouterr().err
    assert "step 10/20" in err and "step 20/20" in err and "\x1b[" not in err  # no terminal control codes
