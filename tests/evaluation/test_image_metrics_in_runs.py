"""Image runs report their metrics with protocols: classifier-FID/KID/PRDC, conditional accuracy; `ganzoo eval`.

These share one MNIST classifier per test session (trained on first use, ~1 min on two idle cores).
"""

import json
import shutil
from pathlib import Path

import pytest

from ganzoo.harness.cli.eval import evaluate_run
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer

from ..metrics_fixtures import shipped_classifier

TINY = ["base_channels=4", "latent_dim=8"]


@pytest.fixture(scope="module")
def classifier_report():
    return shipped_classifier()[1]


def run_model(path, data_dir, model, steps=3):
    run, plugin = resolve_run(model, dataset="mnist", train_overrides={
        "steps": steps, "batch_size": 16, "log_every": steps, "eval_samples": 300}, assignments=TINY)
    return Trainer(run, plugin, RunDir(path), data_dir=data_dir, cpu=True, progress=False).fit()


def test_classifier_heldout_accuracy(classifier_report):
    print(f"\nMNIST classifier held-out accuracy: {classifier_report['heldout_accuracy']:.4f} "
          f"({classifier_report['split']})")
    assert classifier_report["heldout_accuracy"] >= 0.985


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory, shared_data):
    """One finished 3-step DCGAN run, scored at its end, for the tests that read it or copy it."""
    path = tmp_path_factory.mktemp("dcgan") / "run"
    return path, run_model(path, shared_data, "dcgan")


def test_dcgan_run_reports_classifier_fid_and_prdc_with_protocol(dcgan_run, classifier_report):
    tmp_path, summary = dcgan_run
    assert {"fid", "kid", "precision", "recall", "density", "coverage", "classes_covered",
            "class_kl"} <= set(summary["metrics"])
    assert 0 <= summary["metrics"]["classes_covered"] <= 10
    assert summary["metrics"]["fid"] > 0
    protocol = json.loads((tmp_path / "summary.json").read_text())["protocol"]["fid"]
    assert protocol["extractor"] == "mnist-cnn" and protocol["n_fake"] == 300 and protocol["dtype"] == "float64"
    assert protocol["weights_sha256"] == classifier_report["weights_sha256"]


@pytest.mark.parametrize("model", ["cgan", "acgan"])
def test_conditional_models_report_conditional_accuracy(tmp_path, shared_data, classifier_report, model):
    summary = run_model(tmp_path, shared_data, model)
    assert 0.0 <= summary["metrics"]["conditional_accuracy"] <= 1.0


def test_eval_appends_and_keeps_earlier_results(tmp_path, shared_data, classifier_report, dcgan_run):
    tmp_path = Path(shutil.copytree(dcgan_run[0], tmp_path / "run"))  # the shared run, copied: eval appends to it
    first = evaluate_run(tmp_path, metrics=["fid"], n=200, data_dir=shared_data)
    second = evaluate_run(tmp_path, metrics=["prdc"], n=200, data_dir=shared_data)
    assert set(first["metrics"]) == {"fid"} and set(second["metrics"]) == {"precision", "recall", "density", "coverage"}
    evaluations = json.loads((tmp_path / "summary.json").read_text())["evaluations"]
    assert [set(e["metrics"]) for e in evaluations] == [{"fid"}, {"precision", "recall", "density", "coverage"}]
    assert evaluations[0]["protocol"]["fid"]["n_real"] == 200


def test_missing_inception_weights_stop_a_run_before_training(tmp_path, monkeypatch, shared_data):
    """A run that will need the Inception network at the end says so at the start, not hours later."""
    import pytest

    from ganzoo.harness.train.resolve import resolve_run
    from ganzoo.harness.contract.errors import ConfigError
    from ganzoo.harness.report.rundir import RunDir
    from ganzoo.harness.train.trainer import Trainer

    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path / "hub"))
    run, plugin = resolve_run("dcgan", dataset="mnist", train_overrides={"steps": 2, "eval_extractor": "inception"})
    with pytest.raises(ConfigError, match="Inception-v3 weights are missing.*train.evaluate=false"):
        Trainer(run, plugin, RunDir(tmp_path / "run"), data_dir=shared_data, cpu=True, progress=False)
    with pytest.raises(ConfigError, match="ganzoo eval RUN_DIR --extractor timm:NAME"):
        resolve_run("dcgan", dataset="mnist", train_overrides={"eval_extractor": "timm:resnet18"})
