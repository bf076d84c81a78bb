"""Checkpoints and resume: bit-identical continuation, interrupts, pruning, and every way a checkpoint can be bad."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from ganzoo.harness.train import checkpoint
from ganzoo.harness.train.checkpoint import CheckpointStore, load_networks
from ganzoo.harness.contract.errors import CheckpointError, ConfigError, ResumeError
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.resume import resume_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.trainer import Trainer

TINY = ["hidden=16", "depth=2"]


def make(tmp_path, model="gan", steps=20, extra=(), resume=False, **overrides):
    settings = {"steps": steps, "batch_size": 32, "log_every": 4, "eval_samples": 100, **overrides}
    run, plugin = resolve_run(model, train_overrides=settings, assignments=[*TINY, *extra])
    return Trainer(run, plugin, RunDir(tmp_path, resume=resume), cpu=True, progress=False, resume=resume)


def assert_same_state(a: Trainer, b: Trainer) -> None:
    for name in a.nets:
        for (key, p), q in zip(a.nets[name].state_dict().items(), b.nets[name].state_dict().values()):
            assert torch.equal(p, q), f"{name}.{key} differs"
    if a.ema is not None:
        for name in a.ema.averaged:
            for p, q in zip(a.ema.averaged[name].parameters(), b.ema.averaged[name].parameters()):
                assert torch.equal(p, q), f"EMA {name} differs"
    for name in a.optimizers:
        sa, sb = a.optimizers[name].state_dict()["state"], b.optimizers[name].state_dict()["state"]
        for index in sa:
            for key in sa[index]:
                assert torch.equal(sa[index][key], sb[index][key]), f"optimizer {name} {index}.{key} differs"
    assert torch.equal(a.ctx.generator.get_state(), b.ctx.generator.get_state())
    assert torch.equal(a.source.generator.get_state(), b.source.generator.get_state())


@pytest.mark.parametrize(("model", "extra"), [
    ("gan", []),
    ("wgan-gp", ["train.ema_decay=0.9", "train.tricks.instance_noise=0.1", "train.tricks.instance_noise_steps=30"]),
    ("gan", ["train.tricks.r1_gamma=1.0", "train.tricks.r1_every=3"]),  # lazy R1: an interval phase of the harness
])
def test_ten_plus_ten_equals_twenty_bit_for_bit(tmp_path, model, extra):
    whole = make(tmp_path / "whole", model, steps=20, extra=extra)
    whole.fit()
    make(tmp_path / "split", model, steps=10, extra=extra).fit()
    resumed = make(tmp_path / "split", model, steps=20, extra=extra, resume=True)
    assert resumed.step == 10
    summary = resumed.fit()
    assert summary["steps"] == 20 and summary["checkpoints"]["resumed_from"].endswith("step_0000010.pt")
    assert_same_state(whole, resumed)


def test_crash_after_a_checkpoint_resumes_from_it_and_drops_later_records(tmp_path):
    extra = ["train.ema_decay=0.8", "train.tricks.instance_noise=0.1"]
    whole = make(tmp_path / "whole", "wgan-gp", steps=20, extra=extra)
    whole.fit()
    crashing = make(tmp_path / "crash", "wgan-gp", steps=20, extra=extra, checkpoint_every=7)
    original = crashing._run_phase

    def crash_at_step_17(phase, measure):
        if crashing.step == 17:
            raise RuntimeError("power cut")
        original(phase, measure)

    crashing._run_phase = crash_at_step_17
    with pytest.raises(RuntimeError, match="power cut"):
        crashing.fit()
    assert [r["step"] for r in RunDir(tmp_path / "crash", resume=True).read_metrics()] == [4, 8, 12, 16]
    resumed = make(tmp_path / "crash", "wgan-gp", steps=20, extra=extra, resume=True, checkpoint_every=7)
    assert resumed.step == 14
    resumed.fit()
    assert_same_state(whole, resumed)
    steps = [r["step"] for r in resumed.run_dir.read_metrics()]
    assert steps == [4, 8, 12, 16, 20, 20]  # 16 was rewritten after the resume, not duplicated


def test_sigint_finishes_the_step_checkpoints_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "ganzoo.harness.cli", "run", "gan", "--steps", "1000000", "--batch-size", "32",
         "--out", str(out), "--no-progress", "--set", "hidden=16", "--set", "train.log_every=20",
         "--set", "train.eval_samples=100", "--set", "train.cpu_threads=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + 120
        while not (out / "metrics.jsonl").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert f"--resume {out}" in stdout + stderr
    (latest,) = [p for _, p in CheckpointStore(out / "checkpoints").files()]
    state = checkpoint.read(latest, model="gan")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["steps"] == state["step"] > 0
    run, plugin = resume_run(out, "gan", train_overrides={"steps": state["step"] + 3})
    resumed = Trainer(run, plugin, RunDir(out, resume=True), cpu=True, progress=False, resume=True)
    assert resumed.fit()["steps"] == state["step"] + 3


def test_keeps_the_last_k_and_the_best(tmp_path):
    trainer = make(tmp_path, "gan", steps=12, checkpoint_every=2, eval_every=2, keep_checkpoints=2)
    trainer.fit()
    store = CheckpointStore(tmp_path / "checkpoints")
    index = json.loads((tmp_path / "checkpoints" / "index.json").read_text())
    steps = [s for s, _ in store.files()]
    best = index["best"]
    assert steps[-2:] == [10, 12] and set(steps) == {10, 12, best["step"]}
    assert best["metric"] == "reverse_kl" and best["mode"] == "min"
    assert store.best().name == best["file"]
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))  # atomic writes leave no temporaries


def test_load_networks_for_sampling(tmp_path):
    make(tmp_path, "gan", steps=6, extra=["train.ema_decay=0.5"]).fit()
    plugin, nets, ema = load_networks(tmp_path)
    assert plugin.spec.name == "gan" and set(nets) == {"G", "D"} and not nets.G.training
    assert ema is not None and not torch.equal(next(ema.G.parameters()), next(nets.G.parameters()))
    from ganzoo.harness.evaluation.sampling import generate
    assert generate(plugin, ema, 10, seed=0, device=torch.device("cpu")).shape == (10, 2)
    assert load_networks(tmp_path, which=6)[1].keys() == nets.keys()
    with pytest.raises(CheckpointError, match="no checkpoint for step 3"):
        load_networks(tmp_path, which=3)


def test_resume_refuses_a_changed_config_but_allows_steps(tmp_path):
    make(tmp_path, "gan", steps=4).fit()
    run, _ = resume_run(tmp_path, "gan", train_overrides={"steps": 8, "batch_size": 32})  # unchanged: fine
    assert run.train.steps == 8
    with pytest.raises(ConfigError, match=r"train.batch_size: 32 → 64"):
        resume_run(tmp_path, "gan", train_overrides={"steps": 8, "batch_size": 64})
    with pytest.raises(ConfigError, match="hidden"):
        resume_run(tmp_path, "gan", assignments=["hidden=32"])
    with pytest.raises(ConfigError, match="trains 'gan', not 'wgan-gp'"):
        resume_run(tmp_path, "wgan-gp")
    with pytest.raises(ResumeError, match="already trained 4 of 4"):
        make(tmp_path, "gan", steps=4, resume=True)


def _snapshot(path):
    return {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _bad_checkpoint(kind, tmp_path, good):
    if kind == "truncated":
        data = good.read_bytes()
        return data[: len(data) // 2], "truncated, corrupt or a foreign file"
    state = torch.load(good, weights_only=True)
    if kind == "newer":
        state["version"] = checkpoint.VERSION + 1
        message = "newer than"
    elif kind == "other model":
        state["model"] = "wgan-gp"
        message = "written by model 'wgan-gp', not 'gan'"
    elif kind == "code":
        state["payload"] = subprocess.Popen  # any non-data object: weights_only must refuse it
        message = "refusing to load"
    elif kind == "random bytes":
        return os.urandom(4096), r"is not a checkpoint: it is truncated, corrupt or a foreign file"
    else:
        state = {"weights": torch.zeros(2)}
        message = "not a ganzoo checkpoint"
    target = tmp_path / "bad.pt"
    torch.save(state, target)
    return target.read_bytes(), message


@pytest.mark.parametrize("kind", ["truncated", "newer", "other model", "code", "foreign", "random bytes"])
def test_bad_checkpoint_is_a_clear_error_and_nothing_is_overwritten(tmp_path, kind):
    run_dir = tmp_path / "run"
    make(run_dir, "gan", steps=4).fit()
    good = run_dir / "checkpoints" / "step_0000004.pt"
    data, message = _bad_checkpoint(kind, tmp_path, good)
    bad = run_dir / "checkpoints" / "step_0000005.pt"  # the newest, so resume picks it
    bad.write_bytes(data)
    before = _snapshot(run_dir)
    with pytest.raises(CheckpointError, match=message) as info:
        make(run_dir, "gan", steps=8, resume=True)
    assert "step_0000005.pt" in str(info.value)
    assert _snapshot(run_dir) == before
    with pytest.raises(CheckpointError, match=message) as info:
        checkpoint.read(bad, model="gan")
    assert "weights_only" not in str(info.value) and "likely succeed" not in str(info.value)  # torch's advice: never


def test_resume_without_checkpoint(tmp_path):
    RunDir(tmp_path).write_config({"model": "gan"})
    with pytest.raises(ResumeError, match="no checkpoint"):
        make(tmp_path, "gan", steps=4, resume=True)


def test_declared_linear_decay_is_run_by_the_harness_and_resumes_exactly(tmp_path):
    from ganzoo.harness.contract.config import RunConfig, TrainConfig
    from ganzoo.harness.contract.gan_plugin import OptimizerSpec
    from ganzoo.harness.contract.registry import LoadedPlugin, PluginSource
    from ganzoo.zoo.gan import GAN

    class DecayingGAN(GAN):
        def optimizers(self):
            return {name: OptimizerSpec(lr=1e-3, decay="linear", decay_start=0.5) for name in ("G", "D")}

    plugin = LoadedPlugin(PluginSource("decaying-gan", "tests.train.test_resume:DecayingGAN", "tests"), DecayingGAN)

    def trainer(path, resume=False):
        run = RunConfig(model="gan", dataset="ring", params={"hidden": 16, "depth": 2},
                        train=TrainConfig(steps=20, batch_size=32, log_every=5, eval_samples=100, checkpoint_every=6))
        return Trainer(run, plugin, RunDir(path, resume=resume), cpu=True, progress=False, resume=resume)

    whole = trainer(tmp_path / "whole")
    whole.fit()
    lrs = [r["diagnostics"]["G/lr"] for r in whole.run_dir.read_metrics() if "diagnostics" in r]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-3 * 6 / 10, 1e-3 * 1 / 10])  # steps 5, 10, 15, 20: decay from 10 on
    crashing = trainer(tmp_path / "split")
    original = crashing._run_phase

    def crash_at_step_14(phase, measure):
        if crashing.step == 14:
            raise RuntimeError("crash")
        original(phase, measure)

    crashing._run_phase = crash_at_step_14
    with pytest.raises(RuntimeError):
        crashing.fit()
    resumed = trainer(tmp_path / "split", resume=True)
    assert resumed.step == 12  # the checkpoint was taken in the decay phase
    resumed.fit()
    assert_same_state(whole, resumed)


def test_a_run_stopped_by_its_time_limit_resumes_to_the_same_state(tmp_path):
    """--time-limit: training stops, what it reached is scored and checkpointed, and resume loses nothing."""
    run, plugin = resolve_run("gan", train_overrides={"steps": 1_000_000, "batch_size": 32, "log_every": 4,
                                                      "eval_samples": 100}, assignments=TINY)
    limited = Trainer(run, plugin, RunDir(tmp_path / "limited"), cpu=True, progress=False, time_limit_s=0.5)
    summary = limited.fit()
    reached = summary["steps"]
    assert summary["status"] == "time-limit" and 0 < reached < 1_000_000
    assert f"after step {reached}/1000000" in summary["stopped"] and "modes_captured" in summary["metrics"]
    assert summary["checkpoints"]["last"].endswith(f"step_{reached:07d}.pt")
    resumed = make(tmp_path / "limited", steps=reached + 6, resume=True)
    assert resumed.step == reached
    resumed.fit()
    whole = make(tmp_path / "whole", steps=reached + 6)
    whole.fit()
    assert_same_state(whole, resumed)


def test_an_edited_config_json_is_refused_naming_the_field_and_both_values(tmp_path):
    make(tmp_path, "gan", steps=4).fit()
    config = json.loads((tmp_path / "config.json").read_text())
    config["train"]["log_every"] = 2
    (tmp_path / "config.json").write_text(json.dumps(config))
    run, plugin = resume_run(tmp_path, "gan", train_overrides={"steps": 8})
    with pytest.raises(ResumeError, match=r"train.log_every: 4 → 2"):
        Trainer(run, plugin, RunDir(tmp_path, resume=True), cpu=True, progress=False, resume=True)


def test_resume_removes_the_temporaries_a_killed_run_left(tmp_path):
    make(tmp_path, "gan", steps=4).fit()
    stray = tmp_path / "checkpoints" / ".step_0000006.pt.k1ll3d.tmp"
    stray.write_bytes(b"half a checkpoint")
    make(tmp_path, "gan", steps=6, resume=True).fit()
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_checkpoint_is_written_every_checkpoint_every_s_seconds_by_default(tmp_path):
    from ganzoo.harness.contract.config import TrainConfig

    assert 0 < TrainConfig().checkpoint_every_s <= 600  # a crash never loses more than ten minutes
    make(tmp_path, "gan", steps=5, checkpoint_every=0, checkpoint_every_s=1e-9, keep_checkpoints=10).fit()
    assert [s for s, _ in CheckpointStore(tmp_path / "checkpoints").files()] == [1, 2, 3, 4, 5]


def test_a_full_disk_at_a_checkpoint_names_the_intact_one_and_the_resume_command(tmp_path, monkeypatch):
    from ganzoo.harness.contract.errors import StorageError

    trainer = make(tmp_path, "gan", steps=8, checkpoint_every=4)
    real_save = torch.save

    def save(state, file, *args, **kwargs):
        if state["step"] == 8:
            file.write(b"PK\x03\x04 partial")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4416 vs 4310")
        real_save(state, file, *args, **kwargs)

    monkeypatch.setattr(checkpoint.torch, "save", save)
    with pytest.raises(StorageError) as info:
        trainer.fit()
    message = str(info.value)
    assert "no space left" in message and "step_0000008.pt" in message and "\n" not in message
    assert f"last intact checkpoint is {tmp_path / 'checkpoints' / 'step_0000004.pt'}" in message
    assert f"ganzoo run gan --resume {tmp_path}" in message and "enforce fail" not in message
    assert [s for s, _ in CheckpointStore(tmp_path / "checkpoints").files()] == [4]
    assert not list(tmp_path.rglob("*.tmp"))
    monkeypatch.undo()
    make(tmp_path, "gan", steps=8, checkpoint_every=4, resume=True).fit()  # and it resumes from there
