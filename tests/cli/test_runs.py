"""What happens around a run, through the real CLI: two runs on one folder, foreign checkpoints, full disks,
unwritable folders, a killed worker, and the commands a newcomer types after `ganzoo run` (resume, eval, sample,
report, translate) finding what the run recorded. In a subprocess where the process matters (concurrent runs, a
full disk, a killed worker, a new shell); in process (``ganzoo_here``: the same parsing, command and one-line
error) where only the command's answer does."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.train.trainer import Trainer

from ..cli_helpers import ganzoo, ganzoo_here

TINY_GAN = ["--set", "hidden=16", "--set", "depth=2", "--set", "train.eval_samples=200", "--set", "train.cpu_threads=1"]
TINY_DCGAN = ["--set", "base_channels=4", "--set", "latent_dim=8", "--set", "train.batch_size=16",
              "--set", "train.evaluate=false", "--set", "train.cpu_threads=1"]


def train(path: Path, model: str = "gan", steps: int = 4, **train_settings) -> Path:
    """A tiny finished run, trained in this process (faster than a subprocess)."""
    settings = {"steps": steps, "batch_size": 32, "log_every": 2, "eval_samples": 200, **train_settings}
    run, plugin = resolve_run(model, train_overrides=settings, assignments=["hidden=16", "depth=2"])
    Trainer(run, plugin, RunDir(path), cpu=True, progress=False).fit()
    return path


@pytest.fixture(scope="module")
def finished_gan(tmp_path_factory) -> Path:
    """One tiny finished GAN run (``train``'s defaults) for the tests that only read it."""
    return train(tmp_path_factory.mktemp("shared") / "gan")


@pytest.fixture
def gan_copy(finished_gan, tmp_path) -> Path:
    """That run, copied for a test that changes it (a foreign checkpoint, an evaluation added)."""
    return Path(shutil.copytree(finished_gan, tmp_path / "gan"))


def one_line_error(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


# -- the seven failures of the fault battery -----------------------------------------------------------
def test_two_runs_started_at_once_on_one_out_never_mix(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "ganzoo.harness.cli", "run", "gan", "--steps", "40", "--out", str(out),
               "--no-progress", *TINY_GAN, "--set", "train.log_every=10"]
    env = {**os.environ, "COLUMNS": "200"}
    runs = [subprocess.Popen([*command, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env) for seed in (1, 2)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(stderr for code, _, stderr in results if code == 2)
    assert "error:" in loser and "choose another --out" in loser and "Traceback" not in loser
    winner_seed = 1 if results[0][0] == 0 else 2
    assert json.loads((out / "config.json").read_text())["train"]["seed"] == winner_seed
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30, 40, 40]  # one run's records, not two interleaved


def test_sample_and_eval_refuse_a_checkpoint_of_another_model(tmp_path, gan_copy):
    gan = gan_copy
    other = train(tmp_path / "wgan-gp", model="wgan-gp")
    shutil.copy(other / "checkpoints" / "step_0000004.pt", gan / "checkpoints" / "step_0000009.pt")
    summary = (gan / "summary.json").read_bytes()
    for command in (["sample", str(gan), "--out", str(tmp_path / "grid.png")], ["eval", str(gan), "--n", "100"]):
        result = ganzoo_here(*command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "written by model 'wgan-gp', not 'gan'" in one_line_error(result)
    assert (gan / "summary.json").read_bytes() == summary and not (tmp_path / "grid.png").exists()


def test_sample_refuses_a_checkpoint_of_the_same_model_configured_otherwise(tmp_path, gan_copy):
    gan = gan_copy
    other = tmp_path / "other"
    run, plugin = resolve_run("gan", train_overrides={"steps": 4, "batch_size": 32, "eval_samples": 200},
                              assignments=["hidden=8", "depth=2"])
    Trainer(run, plugin, RunDir(other), cpu=True, progress=False).fit()
    shutil.copy(other / "checkpoints" / "step_0000004.pt", gan / "checkpoints" / "step_0000009.pt")
    result = ganzoo_here("sample", str(gan))
    assert result.returncode == 2 and "params.hidden: 16 → 8" in one_line_error(result)


FULL_DISK = '''
import sys, torch
from ganzoo.harness.cli.main import main
real = torch.save
def save(state, file, *args, **kwargs):
    if isinstance(state, dict) and state.get("step") == 8:
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4416 vs 4310")
    real(state, file, *args, **kwargs)
torch.save = save
sys.argv = ["ganzoo", *sys.argv[1:]]
main()
'''


def test_a_full_disk_while_checkpointing_is_one_line_with_the_intact_checkpoint_and_resume(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-c", FULL_DISK, "run", "gan", "--steps", "8", "--out", str(out),
                             "--no-progress", *TINY_GAN, "--set", "train.checkpoint_every=4"],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "300"})
    assert result.returncode == 2, result.stderr
    line = one_line_error(result)
    assert "no space left" in line and "enforce fail" not in line
    assert f"last intact checkpoint is {out / 'checkpoints' / 'step_0000004.pt'}" in line
    assert f"ganzoo run gan --resume {out}" in line
    assert not list(out.rglob("*.tmp"))


def test_an_unwritable_out_is_one_error_line(tmp_path):
    if os.geteuid() == 0:  # root writes through permissions: a place no one can create folders in
        target = Path("/sys/ganzoo-test-run/run")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        target = locked / "run"
    result = ganzoo_here("run", "gan", "--steps", "2", "--out", str(target), *TINY_GAN)
    assert result.returncode == 2
    assert f"cannot create the run directory {target}" in one_line_error(result)


def _workers(launcher: int) -> dict[int, int]:
    """{rank: pid} of the processes a launcher started."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == launcher:
                rank = [v for v in (entry / "environ").read_bytes().split(b"\0") if v.startswith(b"RANK=")]
                if rank:
                    found[int(rank[0][5:])] = int(entry.name)
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the worker processes through /proc")
def test_a_killed_worker_is_named_with_the_last_checkpoint_and_the_resume_command(tmp_path):
    out = tmp_path / "run"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "ganzoo.harness.cli", "run", "gan", "--cpu", "--processes", "2", "--steps", "1000000",
         "--out", str(out), "--no-progress", *TINY_GAN, "--set", "train.log_every=20",
         "--set", "train.checkpoint_every=0", "--set", "train.checkpoint_every_s=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "400"})
    try:
        deadline = time.monotonic() + 240
        while not list((out / "checkpoints").glob("step_*.pt")):  # a time-based checkpoint, none by steps
            assert launcher.poll() is None, launcher.communicate()
            assert time.monotonic() < deadline, "no checkpoint was written"
            time.sleep(0.5)
        workers = _workers(launcher.pid)
        assert set(workers) == {0, 1}, workers
        os.kill(workers[1], signal.SIGKILL)
        stdout, stderr = launcher.communicate(timeout=120)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 1, stderr
    assert "Traceback" not in stderr and "GLHF" not in stderr and "Connection reset" not in stderr, stderr
    line = next(line for line in stderr.splitlines() if line.startswith("error:"))
    assert f"rank 1 of 2 (pid {workers[1]}) was killed by SIGKILL" in line and "rank 0" not in line
    assert "Last checkpoint: " + str(out / "checkpoints" / "step_") in line
    assert f"ganzoo run gan --resume {out} --cpu --processes 2" in line


# -- the first hour: what a newcomer types after `ganzoo run` ------------------------------------------
def test_resume_sample_report_and_eval_find_the_data_folder_the_run_recorded(tmp_path, shared_data):
    out, empty = tmp_path / "run", tmp_path / "empty-cache"
    elsewhere = {"GANZOO_DATA": None, "GANZOO_CACHE": empty, "HOME": tmp_path}  # a new shell, no data there
    first = ganzoo("run", "dcgan", "--dataset", "mnist", "--data-dir", str(shared_data), "--steps", "2",
                   "--out", str(out), "--no-progress", *TINY_DCGAN, env=elsewhere)
    assert first.returncode == 0, first.stderr
    assert json.loads((out / "config.json").read_text())["data_dir"] == str(shared_data.resolve())
    resumed = ganzoo("run", "dcgan", "--resume", str(out), "--steps", "3", "--no-progress", env=elsewhere)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "summary.json").read_text())["steps"] == 3
    # what follows only reads the environment it is given (no path is cached): in process, the same commands
    assert ganzoo_here("sample", str(out), "--n", "4", env=elsewhere).returncode == 0
    assert ganzoo_here("report", str(out), env=elsewhere).returncode == 0
    # eval opens the data first, then the feature network: without timm weights it stops there, not at the data
    evaluated = ganzoo_here("eval", str(out), "--extractor", "timm:resnet18", "--n", "50", env=elsewhere)
    assert evaluated.returncode == 2 and "no MNIST files" not in evaluated.stderr
    assert "timm:resnet18 needs a local weights file" in one_line_error(evaluated)


def test_translate_on_a_generative_run_is_one_line(tmp_path, finished_gan):
    run = finished_gan
    (tmp_path / "images").mkdir()
    result = ganzoo_here("translate", str(run), "--input", str(tmp_path / "images"))
    assert result.returncode == 2
    assert "does not translate images" in one_line_error(result)


def test_cifar10_without_inception_weights_names_the_run_option(tmp_path):
    env = {"TORCH_HOME": tmp_path / "torch", "GANZOO_DATA": tmp_path / "no-data"}
    missing = ganzoo_here("run", "dcgan", "--dataset", "cifar10", "--steps", "1", "--out", str(tmp_path / "a"),
                          env=env)
    assert missing.returncode == 2 and "--extractor-weights PATH" in one_line_error(missing)
    gone = tmp_path / "nowhere.pth"
    wrong = ganzoo_here("run", "dcgan", "--dataset", "cifar10", "--steps", "1", "--out", str(tmp_path / "b"),
                        "--extractor-weights", str(gone), env=env)
    assert wrong.returncode == 2 and str(gone) in one_line_error(wrong)
    weights = tmp_path / "inception.pth"
    weights.write_bytes(b"local weights")
    found = ganzoo_here("run", "dcgan", "--dataset", "cifar10", "--steps", "1", "--out", str(tmp_path / "c"),
                        "--extractor-weights", str(weights), env=env)
    assert found.returncode == 2 and "dataset 'cifar10'" in one_line_error(found)  # past the weights, to the data


def test_report_shows_the_evaluations_ganzoo_eval_added(gan_copy):
    run = gan_copy  # evaluated on 200 samples at its end
    assert ganzoo_here("eval", str(run), "--n", "300").returncode == 0
    result = ganzoo_here("report", str(run))
    assert result.returncode == 0, result.stderr
    report = (run / "report.md").read_text()
    section = report.split("## Evaluations after training", 1)[1]
    evaluation = json.loads((run / "summary.json").read_text())["evaluations"][0]
    assert "n = 300" in section and "modes_captured" in section
    assert f"| hq_fraction | {evaluation['metrics']['hq_fraction']:.4g} |" in section
    assert section.count("Protocols:") == 1 and section.count("- modes_captured, modes_total, hq_fraction") == 1


def test_the_end_of_a_run_reads_its_numbers_and_names_report_md(tmp_path):
    out = tmp_path / "run"
    result = ganzoo("run", "gan", "--steps", "20", "--out", str(out), "--no-progress", *TINY_GAN)
    assert result.returncode == 0, result.stderr
    reading = next(line for line in result.stdout.splitlines() if line.startswith("reading"))
    assert "modes" in reading and "within 3σ" in reading and ":" in reading.split("σ", 1)[1]
    assert f"report: {out / 'report.md'}" in result.stdout


def test_metrics_plot_only_for_a_curve(tmp_path, finished_gan):
    once = finished_gan  # 4 steps, evaluated at the end only: a point, not a curve
    assert not (once / "plots" / "metrics.png").exists()
    assert "Metrics over training" not in (once / "report.md").read_text()
    curve = train(tmp_path / "curve", steps=6, eval_every=2)
    assert (curve / "plots" / "metrics.png").exists()
    assert "![Metrics over training](plots/metrics.png)" in (curve / "report.md").read_text()


# -- no data on disk: `ganzoo check` (the smoke suite: tests/cli/test_commands.py) ---------------------------
def test_check_needs_no_dataset(tmp_path):
    env = {"GANZOO_DATA": tmp_path / "no-data"}
    check = ganzoo("check", "dcgan", "--only", "spec,build,samples", "--json", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert report["ok"] and report["dataset"] == "synthetic"
    assert "mnist is not on disk" in next(r["detail"] for r in report["results"] if r["check"] == "spec")


def test_a_suite_whose_data_is_missing_is_skipped_with_the_whole_reason(tmp_path, monkeypatch):
    registry = tmp_path / "registry.toml"
    registry.write_text('[presets."dcgan/tiny"]\nmodel = "dcgan"\ndataset = "mnist"\n'
                        'train = { steps = 2, batch_size = 8, evaluate = false }\nparams = { base_channels = 4 }\n'
                        '[suites.tiny]\ndescription = "d"\npresets = ["dcgan/tiny"]\n')
    result = ganzoo_here("bench", "--suite", "tiny", "--out", str(tmp_path / "out"),
                         env={"GANZOO_REGISTRY": registry, "GANZOO_DATA": tmp_path / "no-data"})
    assert result.returncode == 0, result.stderr
    (record,) = json.loads((tmp_path / "out" / "results.json").read_text())["records"]
    assert record["status"] == "skipped" and "no MNIST files" in record["reason"]
    # the terminal may wrap a long tmp path mid-word (pytest -n's are longer): compare without whitespace
    said = f"skipped dcgan/tiny@seed0: {record['reason']}"
    assert "".join(said.split()) in "".join(result.stderr.split())
    assert record["reason"] in (tmp_path / "out" / "leaderboard.md").read_text()  # whole, not cut mid-word
