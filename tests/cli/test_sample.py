"""`ganzoo sample`: grids from a saved run (harness/cli/sample.py), tried on zoo models."""

import pytest

from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.cli.sample import sample, sample_labels
from ganzoo.harness.contract.errors import SampleError
from ganzoo.harness.train.trainer import Trainer

from ..zoo.test_image_models import no_image_metrics  # noqa: F401 (autouse fixture)


def saved_run(path, shared_data, model):
    run, plugin = resolve_run(model, dataset="mnist", train_overrides={"steps": 1, "batch_size": 8, "eval_samples": 8},
                              assignments=["base_channels=4", "latent_dim=8"])
    trainer = Trainer(run, plugin, RunDir(path), data_dir=shared_data, cpu=True, progress=False)
    trainer.fit()
    return trainer


def test_sample_draws_one_class_or_one_column_per_class(tmp_path, shared_data):
    trainer = saved_run(tmp_path / "run", shared_data, "cgan")
    assert sample_labels(trainer.plugin, 20, None).tolist() == list(range(10)) * 2
    assert set(sample_labels(trainer.plugin, 5, 3).tolist()) == {3}
    path = sample(tmp_path / "run", n=20, class_index=3, out=tmp_path / "threes.png")
    assert path == tmp_path / "threes.png" and path.stat().st_size > 100
    default = sample(tmp_path / "run", n=10)
    assert default == tmp_path / "run" / "samples" / "sample-10.png" and default.exists()
    with pytest.raises(SampleError, match="0..9"):
        sample(tmp_path / "run", n=4, class_index=10)


def test_class_is_refused_for_an_unconditional_model(tmp_path, shared_data):
    saved_run(tmp_path / "run", shared_data, "dcgan")
    assert sample(tmp_path / "run", n=4).exists()
    with pytest.raises(SampleError, match="unconditional"):
        sample(tmp_path / "run", n=4, class_index=1)
