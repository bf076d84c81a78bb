"""The `ganzoo` command end to end, in a subprocess, as a user would run it; what it answers to a refused
command, in process (the same parsing, command and one-line error, without a start-up per check)."""

import json
from pathlib import Path

from .. import plugin_sources as src
from ..cli_helpers import ganzoo, ganzoo_here


def test_list_json_shows_builtin_models():
    result = ganzoo("list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["wgan-gp"]["arxiv"] == "1704.00028" and rows["gan"]["status"] == "ok"


def test_show_lists_schema_and_presets():
    result = ganzoo("show", "wgan-gp")
    assert result.returncode == 0, result.stderr
    for text in ("gp_weight", "penalty weight", "wgan-gp/ring", "1704.00028"):
        assert text in result.stdout


def test_run_writes_run_dir_and_prints_mode_metrics(tmp_path):
    out = tmp_path / "run"
    result = ganzoo("run", "gan", "--steps", "20", "--batch-size", "64", "--seed", "3", "--out", str(out),
                    "--set", "hidden=16", "--set", "train.eval_samples=300")
    assert result.returncode == 0, result.stderr
    assert "modes_captured" in result.stdout and "hq_fraction" in result.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["seed"] == 3 and config["train"]["batch_size"] == 64 and config["preset"] == "gan/ring"
    assert json.loads((out / "summary.json").read_text())["metrics"]["n_samples"] == 300


def test_unknown_model_lists_close_matches():
    result = ganzoo("run", "wgan_gp")
    assert result.returncode == 2
    assert "unknown model 'wgan_gp'" in result.stderr and "wgan-gp" in result.stderr


def test_bad_set_names_field_and_range(tmp_path):
    result = ganzoo_here("run", "wgan-gp", "--set", "gp_weight=-1", "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "gp_weight" in result.stderr and "greater than or equal to 0" in result.stderr
    assert not (tmp_path / "x").exists()


def test_unknown_dataset_suggests(tmp_path):
    result = ganzoo_here("run", "gan", "--dataset", "rign", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "ring" in result.stderr


def test_third_party_and_broken_plugins_in_list(plugin_site):
    plugin_site("tiny-dist", {"tiny-gan": "tiny_plugin:TinyGAN"}, {"tiny_plugin": src.GOOD})
    plugin_site("broken-dist", {"broken": "broken_mod:X"}, {"broken_mod": src.IMPORT_ERROR})
    result = ganzoo("list")
    assert result.returncode == 0, result.stderr
    assert "tiny-gan" in result.stdout and "tiny-dist" in result.stdout
    assert "broken plugin" in result.stderr and "not_a_real_module_xyz" in result.stderr
    assert "wgan-gp" in result.stdout


def test_report_of_a_folder_that_is_no_run_names_the_problem(tmp_path):
    result = ganzoo_here("report", str(tmp_path), "--html")
    assert result.returncode == 2 and "not a run directory" in result.stderr


def test_bench_smoke_from_the_command_line(tmp_path):
    """`ganzoo bench --suite smoke` as users type it, with no dataset on disk (a 2-D and an image model here: the
    suite test covers every model). The refusals after it are checked in process."""
    out = tmp_path / "smoke"
    doc = tmp_path / "docs" / "benchmarks.md"
    result = ganzoo("bench", "--suite", "smoke", "--models", "gan,dcgan", "--out", str(out), "--markdown", str(doc),
                    env={"GANZOO_DATA": tmp_path / "no-data"})
    assert result.returncode == 0, result.stderr
    records = json.loads((out / "results.json").read_text())["records"]
    assert {r["model"]: r["status"] for r in records} == {"gan": "ok", "dcgan": "ok"}
    run_dirs = {r["model"]: Path(r["run_dir"]) for r in records}
    assert json.loads((run_dirs["dcgan"] / "config.json").read_text())["dataset"] == "synthetic"
    assert "<!-- bench:smoke -->" in doc.read_text() and (tmp_path / "docs" / "images" / "bench").is_dir()
    again = ganzoo_here("bench", "--suite", "smoke", "--out", str(out))
    assert again.returncode == 2 and "--resume" in again.stderr
    unknown = ganzoo_here("bench", "--suite", "nope")
    assert unknown.returncode == 2 and "unknown suite 'nope'" in unknown.stderr and "mixtures" in unknown.stderr
