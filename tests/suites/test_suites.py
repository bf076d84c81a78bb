"""`ganzoo bench`: suites validate, entries run and resume, the leaderboard compares with references."""

import contextlib
import json

import pytest

from ganzoo.harness.suites import runner as bench
from ganzoo.harness.contract import presets
from ganzoo.harness.suites.runner import load_suites, run_suite
from ganzoo.harness.contract.errors import BenchError
from ganzoo.harness.suites.leaderboard_plots import plots
from ganzoo.harness.suites.leaderboard import markdown, rows


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
    from .. import plugin_sources as src

    plugin_site("tiny-dist", {"tiny-gan": "tiny_plugin:TinyGAN"}, {"tiny_plugin": src.GOOD})
    data = run_suite("smoke", out=tmp_path, models=["gan", "wgan-gp", "tiny-gan"])
    assert {r["model"]: r["status"] for r in data["records"]} == {"gan": "ok", "wgan-gp": "ok", "tiny-gan": "ok"}


def test_smoke_suite_passes_for_every_builtin_model(tmp_path, monkeypatch):
    """What `ganzoo bench --suite smoke` runs: every model builds with its default config, trains on generated
    data (no dataset on disk) and stays finite. One step here rather than the suite's 3: the second and third
    add no path (WGAN's reference schedule alone made them 100 critic steps each)."""
    from ganzoo.harness.contract import registry

    monkeypatch.setenv("GANZOO_DATA", str(tmp_path / "no-data"))
    data = run_suite("smoke", out=tmp_path / "smoke", overrides={"steps": 1})
    statuses = {r["model"]: r["status"] for r in data["records"]}
    assert set(statuses) >= {p.spec.name for p in registry.discover()[0]}
    assert all(status in ("ok", "time-limit") for status in statuses.values()), [  # time-limit: a busy machine
        (r["model"], r.get("error")) for r in data["records"] if r["status"] != "ok"]


def _registry(tmp_path, monkeypatch, suites: str) -> None:
    path = tmp_path / "registry.toml"
    path.write_text('''
[presets."gan/ring"]
model = "gan"
dataset = "ring"
train = { steps = 4, batch_size = 32, eval_samples = 200, cpu_threads = 1 }
params = { hidden = 8, depth = 1 }
''' + suites)
    monkeypatch.setenv("GANZOO_REGISTRY", str(path))


def test_entry_over_its_budget_stops_there_and_is_scored(tmp_path, monkeypatch):
    _registry(tmp_path, monkeypatch, '''
[suites.slow]
description = "an entry far longer than its budget"
presets = ["gan/ring"]
steps = 1000000
budget_s = 1
metrics = ["modes_captured"]
''')
    (record,) = run_suite("slow", out=tmp_path / "out")["records"]
    assert record["status"] == "time-limit" and record["over_budget"]
    assert 0 < record["steps"] < record["steps_planned"] == 1_000_000
    assert "time limit of 1 s" in record["stopped"]
    assert "modes_captured" in record["metrics"]  # what it reached is scored, not lost
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    text = markdown(saved)
    assert "| gan/ring |" in text and "stopped at the time budget" in text
    run_suite("slow", out=tmp_path / "out", resume=True)  # a stopped entry counts as done


def test_suite_needing_what_the_machine_lacks_is_skipped_with_the_reason(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    _registry(tmp_path, monkeypatch, '''
[suites.gpu]
description = "needs a GPU and the Inception weights"
presets = ["gan/ring"]
requires = ["cuda", "inception-weights"]
metrics = ["fid"]
''')
    calls = []
    monkeypatch.setattr(bench, "_train_entry", lambda *a: calls.append(a))
    (record,) = run_suite("gpu", out=tmp_path / "out")["records"]
    assert record["status"] == "skipped" and "CUDA GPU" in record["reason"] and "Inception-v3 weights are missing" in record["reason"] and calls == []
    text = markdown(json.loads((tmp_path / "out" / "results.json").read_text()))
    assert "skipped: needs a CUDA GPU" in text
    results = bench.Results(tmp_path / "out" / "results.json", "gpu", load_suites()["gpu"], True)
    assert results.done({record["key"]: record["fingerprint"]}) == set()  # --resume tries it again


def test_missing_inception_weights_are_named_with_the_fix(monkeypatch, tmp_path):
    from ganzoo.harness.suites import requirements as bench_requirements

    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path / "hub"))
    reason = bench_requirements.unmet("inception-weights")
    assert "Inception-v3 weights are missing" in reason and "pt_inception-2015-12-05-6726825d.pth" in reason


def test_shipped_cifar10_suite_is_skipped_here_not_failed(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine could run it")
    data = run_suite("cifar10", out=tmp_path)
    assert {r["status"] for r in data["records"]} == {"skipped"}
    assert {r["preset"] for r in data["records"]} == {"dcgan/cifar10", "lsgan/cifar10", "wgan-gp/cifar10"}


def test_throughput_suite_times_each_precision_and_process_count(tmp_path, monkeypatch):
    """Runs `ganzoo run` in child processes for a 1-second window: one process, two gloo processes (rank 0's clock
    stops both at the same step), and one process count too many for this machine."""
    _registry(tmp_path, monkeypatch, '''
[suites.speed]
description = "speed"
kind = "throughput"
presets = ["gan/ring"]
precisions = ["fp32"]
processes = [1, 2, 4096]
steps = 1000000
measure_s = 1
budget_s = 120
''')
    data = run_suite("speed", out=tmp_path / "out", data_dir=tmp_path)
    by_key = {r["key"]: r for r in data["records"]}
    assert set(by_key) == {"gan/ring@fp32x1", "gan/ring@fp32x2", "gan/ring@fp32x4096"}
    assert by_key["gan/ring@fp32x4096"]["status"] == "skipped" and "contention" in by_key["gan/ring@fp32x4096"]["reason"]
    for key in ("gan/ring@fp32x1", "gan/ring@fp32x2"):
        assert by_key[key]["status"] == "ok", by_key[key].get("error")
        assert 0 < by_key[key]["steps"] < 1000000 and by_key[key]["throughput"]["images_per_s"] > 0
        assert "time limit of 1 s" in by_key[key]["stopped"]  # the window, not a budget overrun
    assert by_key["gan/ring@fp32x2"]["throughput"]["processes"] == 2
    assert by_key["gan/ring@fp32x2"]["throughput"]["global_batch_size"] == 64
    assert "train.evaluate=false" in by_key["gan/ring@fp32x1"]["command"]
    text = markdown(data)
    assert "| gan/ring | fp32 | 1 | 32 |" in text and "| 1.00 |" in text and "× fp32·1" in text
    assert [p.name for p in plots(data, tmp_path / "plots")] == ["speed-images_per_s.png"]


def test_suite_fields_are_checked(tmp_path, monkeypatch):
    _registry(tmp_path, monkeypatch, '''
[suites.bad]
description = "precisions only mean something for throughput suites"
presets = ["gan/ring"]
precisions = ["bf16"]
measure_s = 10
''')
    with pytest.raises(presets.PresetError, match="throughput"):
        load_suites()
    _registry(tmp_path, monkeypatch, '''
[suites.bad]
description = "a reference bound to a preset that does not exist"
presets = ["gan/ring"]

[[suites.bad.references]]
row = "X"
source = "Y"
dataset = "ring"
presets = ["gan/rnig"]
values = { modes_captured = 1 }
''')
    with pytest.raises(presets.PresetError, match="gan/rnig"):
        load_suites()


def test_leaderboard_without_references_has_no_reference_columns():
    data = {"suite": "s", "metrics": ["fid"], "references": [], "records": [
        {"key": "dcgan/mnist@seed0", "model": "dcgan", "preset": "dcgan/mnist", "seed": 0, "status": "ok",
         "dataset": "mnist", "metrics": {"fid": 3.5}, "throughput": {"images_per_s": 100.0}, "seconds": 60.0}]}
    text = markdown(data)
    assert "| dcgan/mnist | mnist | 1/1 | 3.5 | 100 | 1.0 |" in text and "reference" not in text


def test_markdown_section_replaces_only_its_own_suite(tmp_path):
    from ganzoo.harness.suites.leaderboard import write_section

    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n")
    write_section(doc, "mixtures", "## mixtures\nold\n")
    write_section(doc, "mnist", "## mnist\ntable\n")
    write_section(doc, "mixtures", "## mixtures\nnew\n")
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n") and "old" not in text and "## mnist\ntable" in text
    assert text.index("new") < text.index("## mnist")  # replaced where it was


def test_resume_reruns_an_entry_whose_preset_changed(tmp_path, monkeypatch):
    suite = '''
[suites.tiny]
description = "tiny"
presets = ["gan/ring"]
metrics = ["modes_captured"]
'''
    _registry(tmp_path, monkeypatch, suite)
    first = run_suite("tiny", out=tmp_path / "out")["records"][0]
    assert first["steps"] == 4
    calls = []
    monkeypatch.setattr(bench, "run_entry", lambda entry, *a, real=bench.run_entry: calls.append(entry["key"]) or real(entry, *a))
    run_suite("tiny", out=tmp_path / "out", resume=True)
    assert calls == []  # unchanged: nothing to do
    path = tmp_path / "registry.toml"
    path.write_text(path.read_text().replace("steps = 4", "steps = 6"))
    (record,) = run_suite("tiny", out=tmp_path / "out", resume=True)["records"]
    assert calls == ["gan/ring@seed0"] and record["steps"] == 6 and record["fingerprint"] != first["fingerprint"]


def test_protocol_line_spells_out_a_field_that_differs_between_metrics():
    from ganzoo.harness.suites.leaderboard import protocol_signature

    record = {"protocol": {"precision": {"k": 3, "n_fake": 100, "seed": 1}, "recall": {"k": 3, "n_fake": 100},
                           "density": {"k": 5, "n_fake": 100}}}
    assert protocol_signature([record], ["precision", "recall", "density"]) == \
        "k=3 (precision/recall), 5 (density); n_fake=100"


def test_local_executor_runs_two_entries_at_once_and_resumes(tmp_path, monkeypatch):
    """`ganzoo bench --executor local --jobs 2`: submitit runs the entries as two processes at once; the
    records, results.json and leaderboard are those of an inline run, and --resume skips what finished."""
    pytest.importorskip("submitit")
    from typer.testing import CliRunner

    from ganzoo.harness.cli.main import app

    _tiny_registry(tmp_path, monkeypatch)
    out = tmp_path / "out"
    args = ["bench", "--suite", "tiny", "--out", str(out), "--executor", "local", "--jobs", "2", "--steps", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text())
    records = sorted(saved["records"], key=lambda r: r["key"])
    assert [(r["key"], r["status"]) for r in records] == [("gan/ring@seed0", "ok"), ("gan/ring@seed1", "ok")]
    first, second = (r["ran"] for r in records)
    assert first["pid"] != second["pid"]  # each entry a process of its own …
    assert first["started_at"] < second["finished_at"] and second["started_at"] < first["finished_at"]  # … at once
    assert all(r["steps"] == 3 for r in records)
    assert "GAN (Paper T1)" in (out / "leaderboard.md").read_text()
    result = CliRunner().invoke(app, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "results.json").read_text())["records"] == saved["records"]  # nothing ran again


def test_equal_budget_table_reads_each_curve_at_the_same_iteration_and_time(tmp_path, monkeypatch):
    """Two presets evaluated every 2 iterations: the table shows the metric at iteration 4 for both, the
    ratio to the baseline, and what each had reached within a training time (metrics.jsonl's train_seconds)."""
    path = tmp_path / "registry.toml"
    path.write_text('''
[presets."gan/ring"]
model = "gan"
dataset = "ring"
train = { steps = 6, batch_size = 32, eval_samples = 200, eval_every = 2 }
params = { hidden = 8, depth = 1 }

[presets."wgan-gp/ring"]
model = "wgan-gp"
dataset = "ring"
train = { steps = 4, batch_size = 32, eval_samples = 200, eval_every = 2 }
params = { hidden = 8, depth = 1 }

[suites.tiny]
description = "tiny"
presets = ["gan/ring", "wgan-gp/ring"]
metrics = ["hq_fraction"]
budgets = { metric = "hq_fraction", at_steps = [4], at_seconds = [1e6], baseline = "gan/ring" }
notes = { "wgan-gp/ring" = "five critic steps per iteration" }
''')
    monkeypatch.setenv("GANZOO_REGISTRY", str(path))
    data = run_suite("tiny", out=tmp_path / "out")
    from ganzoo.harness.suites.budgets import budget_rows, history

    curves = {r["preset"]: history(r) for r in data["records"]}
    assert [e["step"] for e in curves["gan/ring"]] == [2, 4, 6]
    assert all(e["train_seconds"] > 0 for curve in curves.values() for e in curve)
    by_entry = {row["entry"]: row for row in budget_rows(data)}
    for preset, curve in curves.items():
        assert by_entry[preset]["step:4"] == pytest.approx(curve[1]["metrics"]["hq_fraction"])
        assert by_entry[preset]["reached:1e+06"] == [curve[-1]["step"]]  # everything is within a huge budget
    text = markdown(data)
    assert "hq_fraction at 4 iterations" in text and "÷ gan/ring" in text
    assert "- **wgan-gp/ring**: five critic steps per iteration" in text
    assert "tiny-time-hq_fraction.png" in {p.name for p in plots(data, tmp_path / "plots")}


def test_a_budget_cell_averaged_over_fewer_seeds_says_how_many(tmp_path):
    """Seed 1 has no evaluation at iteration 4: the cell is seed 0's value, marked 1/2 seeds."""
    from ganzoo.harness.suites.budgets import budget_markdown

    records = []
    for seed, steps in ((0, (2, 4)), (1, (2,))):
        run = tmp_path / f"seed{seed}"
        run.mkdir()
        (run / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "train_seconds": s, "metrics": {
            "fid": 10.0 * s + seed}}) + "\n" for s in steps))
        records.append({"key": f"dcgan/mnist@seed{seed}", "preset": "dcgan/mnist", "model": "dcgan", "seed": seed,
                        "status": "ok", "run_dir": str(run)})
    data = {"records": records, "budgets": {"metric": "fid", "at_steps": [2, 4], "at_seconds": []}}
    (row,) = [line for line in budget_markdown(data) if line.startswith("| dcgan/mnist")]
    assert row == "| dcgan/mnist | 2 | 20.5 | 40 (1/2 seeds) |"


def test_budget_baseline_must_be_a_preset_of_the_suite(tmp_path, monkeypatch):
    path = tmp_path / "registry.toml"
    path.write_text('[suites.x]\ndescription = "d"\npresets = ["gan/ring"]\n'
                    'budgets = { metric = "fid", at_steps = [10], baseline = "dcgan/mnist" }\n')
    monkeypatch.setenv("GANZOO_REGISTRY", str(path))
    with pytest.raises(Exception, match="baseline 'dcgan/mnist' is not one of the suite's presets"):
        load_suites()
    path.write_text('[suites.x]\ndescription = "d"\npresets = ["gan/ring"]\nnotes = { "gan/grid" = "why" }\n')
    with pytest.raises(Exception, match="notes name presets the suite does not run: gan/grid"):
        load_suites()


@contextlib.contextmanager
def _signal_during_the_first_iteration():
    """Every run stops after its first iteration, as after Ctrl-C/SIGTERM (what the signal handler sets)."""
    from ganzoo.harness.train.trainer import Trainer

    real_fit = Trainer.fit

    def interrupted_fit(self):
        self.stop.reason = "SIGINT"
        return real_fit(self)

    Trainer.fit = interrupted_fit
    try:
        yield
    finally:
        Trainer.fit = real_fit


def test_an_interrupted_entry_stops_the_suite_and_is_run_again_on_resume(tmp_path, monkeypatch):
    """Ctrl-C or SIGTERM during an entry: that run is unfinished, so it is no result (it was once recorded
    as ok with the metrics of step 1,120 of 15,000), no later entry starts, and --resume runs it again."""
    _tiny_registry(tmp_path, monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(bench.BenchInterrupted, match="--resume"), _signal_during_the_first_iteration():
        run_suite("tiny", out=out)
    (record,) = json.loads((out / "results.json").read_text())["records"]
    assert record["key"] == "gan/ring@seed0" and record["status"] == "interrupted" and "metrics" not in record
    data = run_suite("tiny", out=out, resume=True)
    assert [(r["key"], r["status"]) for r in data["records"]] == [("gan/ring@seed0", "ok"), ("gan/ring@seed1", "ok")]
    # no lost work: the stopped attempt continued from its checkpoint, to the result of an uninterrupted run
    resumed = data["records"][0]
    assert resumed["run_dir"] == record["run_dir"] and resumed["resumed_from"].endswith("step_0000001.pt")
    (uninterrupted,) = run_suite("tiny", out=tmp_path / "again", models=None,
                                 overrides={"seeds": [0]})["records"]
    assert "resumed_from" not in uninterrupted and resumed["metrics"] == uninterrupted["metrics"]


def test_an_attempt_that_cannot_be_resumed_is_started_afresh(tmp_path, monkeypatch):
    """A stopped attempt whose preset changed since (or that finished) is not this entry: a new directory."""
    from ganzoo.harness.suites.runner import unfinished_attempt

    base = tmp_path / "runs" / "gan_ring-seed0"
    assert unfinished_attempt(base) is None
    (base / "checkpoints").mkdir(parents=True)
    (base / "checkpoints" / "step_0000002.pt").write_bytes(b"x")
    assert unfinished_attempt(base) == base  # killed: a checkpoint and no summary
    (base / "summary.json").write_text('{"status": "ok"}')
    assert unfinished_attempt(base) is None
    second = tmp_path / "runs" / "gan_ring-seed0-2"
    (second / "checkpoints").mkdir(parents=True)
    (second / "checkpoints" / "step_0000003.pt").write_bytes(b"x")
    (second / "summary.json").write_text('{"status": "interrupted"}')
    assert unfinished_attempt(base) == second


def test_leaderboard_shows_the_other_generator_beside_the_scored_one_labelled():
    """Runs with an EMA store both generators' metrics; the table scores the one the suite names and a
    second, labelled table gives the EMA of the same runs (a weight average is a different model)."""
    def record(seed, raw, ema):
        return {"key": f"gan/ring@seed{seed}", "model": "gan", "preset": "gan/ring", "seed": seed, "status": "ok",
                "dataset": "ring", "generator": "raw", "metrics": {"hq_fraction": raw},
                "metrics_by_generator": {"raw": {"hq_fraction": raw}, "ema": {"hq_fraction": ema}},
                "throughput": {"images_per_s": 1.0}, "seconds": 1.0}

    data = {"suite": "s", "kind": "presets", "metrics": ["hq_fraction"], "references": [],
            "records": [record(0, 0.5, 0.9), record(1, 0.7, 0.95)]}
    text = markdown(data)
    assert "Scored generator: the trained generator (raw weights)" in text
    main, ema = text.split("The same runs scored through the generator's EMA")
    assert "| gan/ring | ring | 2/2 | 60.0% ± 14.1% |" in main
    assert "| gan/ring | ema | 2 | 92.5% ± 3.5% |" in ema


def test_stopping_the_submitting_command_cancels_the_jobs_still_running(monkeypatch, tmp_path):
    """SIGTERM (or Ctrl-C) while local/SLURM jobs run: each running job is cancelled (submitit sends it
    SIGINT, so the training inside stops at a checkpoint), no job outlives the suite to race a --resume,
    and the process's own SIGTERM handler is restored."""
    import os
    import signal

    from ganzoo.harness.suites import executor

    cancelled = []

    class Job:
        def __init__(self, key):
            self.key = key

        def done(self):
            os.kill(os.getpid(), signal.SIGTERM)  # the signal arrives while the jobs run
            return False

        def cancel(self, check=True):
            cancelled.append(self.key)

    class Executor:
        def submit(self, function, key, *args):
            return Job(key if isinstance(key, str) else key["key"])

    monkeypatch.setattr(executor, "_executor", lambda options, folder, timeout_min: Executor())
    before = signal.getsignal(signal.SIGTERM)
    calls = [(k, (k,)) for k in ("a", "b", "c")]
    with pytest.raises(KeyboardInterrupt):
        list(executor.run_jobs(lambda k: {}, calls, executor.ExecutorOptions(kind="local", jobs=2), tmp_path, 60))
    assert cancelled == ["a", "b"]  # the two running; "c" was never submitted
    assert signal.getsignal(signal.SIGTERM) is before
    # through the suite, the user gets one line naming the command that continues (no bare "Aborted!")
    _tiny_registry(tmp_path, monkeypatch)
    with pytest.raises(bench.BenchInterrupted, match=r"stopped \(signal 15\).*--resume --out"):
        run_suite("tiny", out=tmp_path / "out", executor=executor.ExecutorOptions(kind="local", jobs=2))


def test_a_stopped_attempt_of_a_since_changed_preset_is_not_continued(tmp_path, monkeypatch):
    """The checkpoint's configuration no longer matches the preset: --resume trains that entry afresh and says so."""
    _tiny_registry(tmp_path, monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(bench.BenchInterrupted), _signal_during_the_first_iteration():
        run_suite("tiny", out=out)
    registry = tmp_path / "registry.toml"
    registry.write_text(registry.read_text().replace("hidden = 8", "hidden = 9"))
    first = run_suite("tiny", out=out, resume=True)["records"][0]
    assert first["status"] == "ok" and "resumed_from" not in first
    assert first["run_dir"].endswith("gan_ring-seed0-2") and "different configuration" in first["not_resumed"]
