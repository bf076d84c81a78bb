"""Exported generators (harness/api/artifact.py): export → load → sample reproduces the run; bad files are refused."""

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

import ganzoo
from ganzoo.harness.api.artifact import content_sha256

from ..api_helpers import points_run
from ..cli_helpers import ganzoo_here


def cli(*args):
    return subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    run = points_run(tmp_path_factory)
    path = tmp_path_factory.mktemp("export") / "gan-grid.safetensors"
    result = cli("export", str(run.path), "--out", str(path))
    assert result.returncode == 0, result.stderr
    return run, path, result.stdout


def test_export_load_sample_reproduces_the_run(exported, tmp_path):
    run, path, printed = exported
    artifact = ganzoo.load(path)
    assert artifact.which == "raw" and artifact.model == "gan" and artifact.shape == (2,) and artifact.step == 60
    for seed in (0, 12345):
        assert torch.equal(artifact.sample(700, seed=seed), run.load().sample(700, seed=seed))  # bit for bit
    scored = ganzoo.evaluate(artifact)["metrics"]  # as the run scored its trained generator at the end
    assert {k: float(v) for k, v in scored.items()} == \
        {k: float(v) for k, v in run.summary["metrics_by_generator"]["raw"].items()}
    from ganzoo.harness.api.artifact import file_sha256

    assert f"sha256 {file_sha256(path)}" in printed
    assert torch.equal(ganzoo.load(path, sha256=file_sha256(path)).sample(5), artifact.sample(5))
    ema = ganzoo.export(run, tmp_path / "ema.safetensors", which="ema")
    assert ema["generator"] == "ema" and json.loads(ema["networks"]) == ["G"]  # no discriminator in the file
    assert torch.equal(ganzoo.load(tmp_path / "ema.safetensors").sample(50), run.load("ema").sample(50))
    with pytest.raises(ganzoo.ArtifactError, match="holds the ema generator only"):
        ganzoo.load(tmp_path / "ema.safetensors", which="raw")


def test_a_changed_or_foreign_file_is_refused(exported, tmp_path):
    _, path, _ = exported
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # one weight changed
    (tmp_path / "tampered.safetensors").write_bytes(bytes(data))
    with pytest.raises(ganzoo.ArtifactError, match="changed after `ganzoo export`"):
        ganzoo.load(tmp_path / "tampered.safetensors")
    header = path.read_bytes().replace(b'"step":"60"', b'"step":"99"')  # metadata edited, same length
    (tmp_path / "edited.safetensors").write_bytes(header)
    with pytest.raises(ganzoo.ArtifactError, match="changed after"):
        ganzoo.load(tmp_path / "edited.safetensors")
    with pytest.raises(ganzoo.ArtifactError, match="not the 00ff you expected"):
        ganzoo.load(path, sha256="00ff")
    save_file({"weight": torch.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ganzoo.ArtifactError, match="not a ganzoo generator artifact"):
        ganzoo.load(tmp_path / "foreign.safetensors")
    torch.save({"G": torch.zeros(2)}, tmp_path / "weights.pt")
    with pytest.raises(ganzoo.ArtifactError, match="not a readable safetensors file"):
        ganzoo.load(tmp_path / "weights.pt")


def test_a_model_that_is_not_installed_is_named(exported, tmp_path):
    _, path, _ = exported
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
    tensors = load_file(str(path))
    config = json.loads(metadata["config"])
    metadata["config"] = json.dumps({**config, "model": "ragan"})
    metadata["plugin"] = json.dumps({"distribution": "ganzoo-ragan", "target": "ganzoo_ragan.plugin:RaGAN"})
    metadata["content_sha256"] = content_sha256(metadata, tensors)  # a well-formed artifact of another plugin
    save_file(tensors, str(tmp_path / "ragan.safetensors"), metadata=metadata)
    with pytest.raises(ganzoo.ArtifactError, match="'ragan' generator.*install ganzoo-ragan"):
        ganzoo.load(tmp_path / "ragan.safetensors")


def test_export_command_errors_are_one_line(tmp_path_factory, tmp_path):
    no_ema = points_run(tmp_path_factory, ema=False)
    result = ganzoo_here("export", str(no_ema.path), "--out", str(tmp_path / "x.safetensors"), "--which", "ema")
    assert result.returncode == 2 and "kept no EMA generator" in result.stderr and "Traceback" not in result.stderr
    result = ganzoo_here("export", str(tmp_path), "--out", str(tmp_path / "y.safetensors"))
    assert result.returncode == 2 and "not a run directory" in result.stderr
