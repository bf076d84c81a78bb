"""`ganzoo bench`: suites validate, entries run and resume, the leaderboard compares with references."""

import json

import pytest

from ganzoo.harness import bench, presets
from ganzoo.harness.bench import BenchError, load_suites, run_suite
from ganzoo.harness.leaderboard import markdown, plots, rows


def test_shipped_suites_validate():
    suites = load_suites()
    assert {"smoke", "mixtures"} <= set(suites)
    assert all(ref.values for ref in suites["mixtures"].references)


def test_unknown_preset_in_suite_is_reported(tmp_path, monkeypatch):
    path = tmp_path / "registry.toml"
    path.write_text('[suites.x]\ndescription = "d"\npresets = ["nope/ring"]\n')
    monkeypatch.setenv("GANZOO_REGISTRY", str(path))
    with pytest.raises(presets.PresetError, match="unknown presets"):
        load_suites()


def _tiny_registry(tmp_path, monkeypatch):
    path = tmp_path / "registry.toml"
    path.write_text('''
[presets."gan/ring"]
model = "gan"
dataset = "ring"
train = { steps = 4, batch_size = 32, eval_samples = 200 }
params = { hidden = 8, depth = 1 }

[suites.tiny]
description = "tiny"
presets = ["gan/ring"]
seeds = [0, 1]
metrics = ["modes_captured", "hq_fraction"]

[[suites.tiny.references]]
row = "GAN"
source = "Paper T1"
dataset = "ring"
model = "gan"
values = { modes_captured = 6.3, hq_fraction = 0.982 }
''')
    monkeypatch.setenv("GANZOO_REGISTRY", str(path))


def test_suite_runs_resumes_and_renders(tmp_path, monkeypatch):
    _tiny_registry(tmp_path, monkeypatch)
    out = tmp_path / "out"
    calls = []
    monkeypatch.setattr(bench, "run_entry", lambda entry, *a, real=bench.run_entry: calls.append(entry["key"]) or real(entry, *a))
    data = run_suite("tiny", out=out, models=None)
    assert calls == ["gan/ring@seed0", "gan/ring@seed1"]
    assert [r["status"] for r in data["records"]] == ["ok", "ok"]
    with pytest.raises(BenchError, match="--resume"):
        run_suite("tiny", out=out)
    calls.clear()
    run_suite("tiny", out=out, resume=True)
    assert calls == []  # everything was done already
    saved = json.loads((out / "results.json").read_text())
    (row,) = rows(saved)
    assert row["ok"] == 2 and row["seeds"] == 2
    values = [r["metrics"]["modes_captured"] for r in saved["records"]]
    assert row["_modes_captured_mean"] == pytest.approx(sum(values) / 2)
    text = markdown(saved)
    assert "GAN (Paper T1)" in text and "gap modes_captured" in text and "98.2%" in text
    assert {p.name for p in plots(saved, tmp_path / "plots")} >= {"tiny-modes_captured.png", "tiny-images_per_s.png"}


def test_smoke_suite_covers_every_installed_model(tmp_path, plugin_site):
    from . import plugin_sources as src

    plugin_site("tiny-dist", {"tiny-gan": "tiny_plugin:TinyGAN"}, {"tiny_plugin": src.GOOD})
    data = run_suite("smoke", out=tmp_path, models=["gan", "wgan-gp", "tiny-gan"])
    assert {r["model"]: r["status"] for r in data["records"]} == {"gan": "ok", "wgan-gp": "ok", "tiny-gan": "ok"}


def test_smoke_suite_passes_for_every_builtin_model(tmp_path, shared_data):
    """What `ganzoo bench --suite smoke` runs in CI: every model builds, trains 3 steps, stays finite."""
    from ganzoo.harness import registry

    data = run_suite("smoke", out=tmp_path, data_dir=shared_data)
    statuses = {r["model"]: r["status"] for r in data["records"]}
    assert set(statuses) >= {p.spec.name for p in registry.discover()[0]}
    assert all(status == "ok" for status in statuses.values()), [
        (r["model"], r.get("error")) for r in data["records"] if r["status"] != "ok"]
