"""`--log-with`: Accelerate's trackers receive the records, the sample grids and the config (report/trackers.py)."""

import importlib.util
import os
import subprocess
import sys

import pytest

from ganzoo.harness.report.trackers import TRACKERS, RunTracker, flatten, hyperparameters, parse_log_with
from ganzoo.harness.contract.errors import TrackerError


def cli(*args):
    return subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})


def test_tensorboard_event_file_holds_losses_metrics_a_sample_image_and_the_config(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is in the [test] extra")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    result = cli("run", "gan", "--steps", "20", "--batch-size", "32", "--out", str(out), "--cpu", "--log-with",
                 "tensorboard", "--set", "hidden=16", "--set", "train.eval_samples=200", "--set", "train.log_every=10")
    assert result.returncode == 0, result.stderr
    events = sorted((out / "trackers" / "ganzoo").glob("events.out.tfevents.*"))
    assert len(events) == 1, list((out / "trackers").rglob("*"))
    accumulator = EventAccumulator(str(events[0]), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    assert [e.step for e in accumulator.Scalars("losses/generator/loss")] == [10, 20]
    assert {"losses/discriminator/loss", "throughput/images_per_s", "metrics/modes_captured",
            "diagnostics/G/weight_norm"} <= set(tags["scalars"])
    assert accumulator.Scalars("metrics/n_samples")[-1].value == 200
    images = accumulator.Images("samples")
    assert images and images[-1].step == 20 and images[-1].encoded_image_string.startswith(b"\x89PNG")
    hparams = next((out / "trackers" / "ganzoo").rglob("hparams.yml")).read_text()
    assert "train.batch_size: 32" in hparams and "model: gan" in hparams and "params.hidden: 16" in hparams


@pytest.mark.parametrize("name", [n for n in TRACKERS if n != "tensorboard"])
def test_a_missing_tracker_names_the_extra_to_install(name, tmp_path):
    if importlib.util.find_spec(TRACKERS[name]) is not None:
        pytest.skip(f"{name} is installed here")
    with pytest.raises(TrackerError, match=rf"pip install 'ganzoo\[{name}\]'"):
        parse_log_with(name)
    result = cli("run", "gan", "--steps", "1", "--log-with", name, "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and f"ganzoo[{name}]" in result.stderr and not (tmp_path / "x").exists()


def test_log_with_parsing():
    assert parse_log_with(None) == () and parse_log_with("") == ()
    with pytest.raises(TrackerError, match="unknown tracker 'neptune'.*tensorboard, wandb, mlflow, trackio"):
        parse_log_with("tensorboard,neptune")


class FakeAccelerator:
    def __init__(self):
        self.calls = []

    def init_trackers(self, *args, **kwargs):
        self.calls.append("init")

    def log(self, values, step):
        self.calls.append(("log", step, values))

    @property
    def trackers(self):
        return [self] if self.calls else []

    def finish(self):
        self.calls.append("end")


def test_only_rank_zero_logs_and_records_are_flattened(tmp_path):
    other_rank = FakeAccelerator()
    tracker = RunTracker(other_rank, ("tensorboard",), tmp_path, is_main=False)
    tracker.start({"model": "gan"})
    tracker.log_record({"step": 5, "losses": {"G/loss": 1.0}})
    tracker.finish()
    assert other_rank.calls == []
    main = FakeAccelerator()
    tracker = RunTracker(main, ("tensorboard",), tmp_path, is_main=True)
    tracker.start({"model": "gan"})
    tracker.log_record({"step": 5, "losses": {"G/loss": 1.0}, "metrics": {"fid": 3.5, "note": "text"}})
    tracker.finish()
    assert main.calls == ["init", ("log", 5, {"losses/G/loss": 1.0, "metrics/fid": 3.5}), "end"]
    assert flatten({"a": {"b": True, "c": [1]}}) == {"a/b": 1}
    flat = hyperparameters({"model": "gan", "train": {"tricks": {"pack": 1}, "ema_decay": None}, "plugin": {"x": 1}})
    assert flat == {"model": "gan", "train.tricks.pack": 1, "train.ema_decay": "None"}
