"""`ganzoo eval --samples` / ganzoo.evaluate(samples, dataset=...): anyone's samples, scored like a run's own."""

import json
import os
from contextlib import nullcontext
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.harness.contract.model_spec import DataInfo, DataKind
from ganzoo.harness.evaluation.external import read_samples
from ganzoo.harness.train.evaluator import EVAL_SEED_OFFSET

from ..api_helpers import EVAL_SAMPLES, SEED, points_run
from ..cli_helpers import ganzoo_here
from ..metrics_fixtures import shipped_classifier

MNIST = DataInfo(name="mnist", kind=DataKind.images, shape=(1, 28, 28), num_classes=10)
CIFAR = DataInfo(name="cifar10", kind=DataKind.images, shape=(3, 32, 32), num_classes=10)
RING = DataInfo(name="ring", kind=DataKind.points2d, shape=(2,), value_range=None)


def cli(*args):
    # one torch thread, like this test process (conftest.py): convolutions sum in another order with two,
    # and the numbers compared below must agree to the last bit
    return subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200", "OMP_NUM_THREADS": "1"})


def as_numbers(metrics: dict) -> dict:
    return {key: float(value) for key, value in metrics.items()}  # summary.json writes inf as "inf"


def test_an_npz_of_points_scores_like_the_run(tmp_path_factory, tmp_path):
    run = points_run(tmp_path_factory)
    points = run.load().sample(EVAL_SAMPLES, seed=SEED + EVAL_SEED_OFFSET)  # what the run scored at the end
    np.savez(tmp_path / "points.npz", samples=points.numpy())
    result = cli("eval", "--samples", str(tmp_path / "points.npz"), "--dataset", "grid", "--seed", str(SEED), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert as_numbers(record["metrics"]) == as_numbers(run.summary["metrics_by_generator"]["raw"])
    assert record["protocol"]["reverse_kl"]["metric"] == "mixture" and record["n"] == EVAL_SAMPLES
    assert as_numbers(ganzoo.evaluate(points, dataset="grid")["metrics"]) == as_numbers(record["metrics"])
    np.save(tmp_path / "points.npy", points.numpy().astype(np.float64))
    torch.save({"points": points}, tmp_path / "points.pt")
    for path in ("points.npy", "points.pt"):
        assert as_numbers(ganzoo.evaluate(tmp_path / path, dataset="grid")["metrics"]) == as_numbers(record["metrics"])


def test_a_folder_of_pngs_scores_like_the_same_samples_inside_a_run(tmp_path, shared_data, tmp_path_factory):
    shipped_classifier()  # the classifier behind the MNIST metrics: shipped, checked against its sha256
    run = ganzoo.train("dcgan", "mnist", steps=2, batch_size=16, out=tmp_path / "run", data_dir=shared_data, cpu=True,
                       progress=False, base_channels=4, latent_dim=8, train={"eval_samples": 200, "log_every": 2})
    images = run.load().sample(200, seed=EVAL_SEED_OFFSET)  # the run's own evaluation samples (train.seed 0)
    size = run.config["train"]["resolution"] or 28  # the dcgan/mnist preset trains at 32×32
    with pytest.raises(ganzoo.SamplesError, match=f"pass resolution={size}") if size != 28 else nullcontext():
        ganzoo.evaluate(images, dataset="mnist", data_dir=shared_data)
    in_memory = ganzoo.evaluate(images, dataset="mnist", data_dir=shared_data, resolution=size)
    assert in_memory["metrics"] == run.metrics and in_memory["protocol"]["fid"] == run.summary["protocol"]["fid"]
    pixels = images.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)  # as any PNG writer stores them
    folder = tmp_path / "pngs"
    folder.mkdir()
    for index, image in enumerate(pixels):
        Image.fromarray(image[0].numpy(), mode="L").save(folder / f"{index:04d}.png")
    result = cli("eval", "--samples", str(folder), "--dataset", "mnist", "--data-dir", str(shared_data), "--json",
                 "--resolution", str(size))
    assert result.returncode == 0, result.stderr
    from_files = json.loads(result.stdout)
    quantised = ganzoo.evaluate(pixels.float().div(127.5).sub(1), dataset="mnist", data_dir=shared_data,
                                resolution=size)
    assert from_files["metrics"] == quantised["metrics"] and from_files["n"] == 200
    assert ganzoo.evaluate(folder, dataset="mnist", data_dir=shared_data, resolution=size)["metrics"] == \
        quantised["metrics"]
    assert {"fid", "kid", "precision", "recall", "density", "coverage", "classes_covered"} <= set(from_files["metrics"])
    assert from_files["protocol"]["fid"]["extractor"] == "mnist-cnn"
    nhw = ganzoo.evaluate(pixels[:, 0].numpy(), dataset="mnist", data_dir=shared_data, metrics="fid", resolution=size)
    assert nhw["metrics"]["fid"] == quantised["metrics"]["fid"]  # uint8 (N, H, W) arrays read as 0…255


def test_shapes_ranges_and_files_that_do_not_fit_are_named(tmp_path):
    with pytest.raises(ganzoo.SamplesError, match=r"has shape \(10, 3\); ring samples are 2-D points"):
        read_samples(np.zeros((10, 3)), RING)
    with pytest.raises(ganzoo.SamplesError, match=r"has shape \(4, 3, 28, 28\); mnist samples are 1×28×28"):
        read_samples(np.zeros((4, 3, 28, 28), np.float32), MNIST)
    with pytest.raises(ganzoo.SamplesError, match=r"values in \[0, 2\], outside the -1…1.*--range 0,1"):
        read_samples(np.full((4, 1, 28, 28), 2.0, np.float32) * np.linspace(0, 1, 28, dtype=np.float32), MNIST)
    with pytest.raises(ganzoo.SamplesError, match="NaN"):
        read_samples(np.full((3, 2), np.nan), RING)
    unit = np.random.default_rng(0).random((4, 32, 32, 3)).astype(np.float32)  # NHWC in [0, 1]
    read = read_samples(unit, CIFAR, value_range="0,1")
    assert read.values.shape == (4, 3, 32, 32) and torch.allclose(read.values, torch.from_numpy(unit).permute(0, 3, 1, 2) * 2 - 1)
    with pytest.raises(ganzoo.SamplesError, match="labels must be in 0..9"):
        read_samples(unit, CIFAR, value_range="0,1", labels=[0, 1, 2, 10])
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 2)), b=np.zeros((2, 2)))
    with pytest.raises(ganzoo.SamplesError, match="several arrays.*--key"):
        read_samples(tmp_path / "two.npz", RING)
    assert len(read_samples(tmp_path / "two.npz", RING, key="b")) == 2
    Image.fromarray((np.zeros((28, 28, 3)) + [0, 0, 255]).astype(np.uint8)).save(tmp_path / "blue.png")
    with pytest.raises(ganzoo.SamplesError, match="colour image; mnist samples are grey"):
        read_samples(tmp_path, MNIST)
    big = tmp_path / "big"
    big.mkdir()
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(big / "a.png")
    with pytest.raises(ganzoo.SamplesError, match="is 64×64 pixels; mnist samples are 1×28×28.*resolution=64"):
        read_samples(big, MNIST)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ganzoo.SamplesError, match="unknown kind of file '.txt'"):
        read_samples(tmp_path / "notes.txt", RING)
    with pytest.raises(ganzoo.ConfigError, match="needs the dataset they imitate"):
        ganzoo.evaluate(np.zeros((3, 2)))


def test_the_command_refuses_unusable_samples_in_one_line(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((10, 3)))
    result = ganzoo_here("eval", "--samples", str(tmp_path / "bad.npy"), "--dataset", "ring")
    assert result.returncode == 2 and "has shape (10, 3)" in result.stderr and "Traceback" not in result.stderr
    result = ganzoo_here("eval", "--samples", str(tmp_path / "bad.npy"))
    assert result.returncode == 2 and "--samples needs --dataset" in result.stderr
    result = ganzoo_here("eval")
    assert result.returncode == 2 and "give a run directory" in result.stderr


def test_cifar10_without_inception_weights_says_what_is_missing(tmp_path, monkeypatch):
    """CIFAR-10 samples are scored with Inception-FID when its weights are on the machine; here they are not,
    and that is said before any data is read (the data folder given does not even exist)."""
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(ganzoo.MetricError, match="no default feature network for 'cifar10'.*Inception-v3 weights are "
                                                 "missing"):
        ganzoo.evaluate(np.zeros((4, 32, 32, 3), np.uint8), dataset="cifar10", data_dir=tmp_path / "nowhere")
