"""Every published bench number traces to a committed seed record, and docs/benchmarks.md is what they regenerate."""

import json
import re
from pathlib import Path

import pytest

from ganzoo.harness.suites.seed_records import FORMAT, compare, file_name, make_record, packaged_root, read_records
from ganzoo.harness.suites.records_tables import section_text
from ganzoo.harness.suites.runner import load_suites

from ..cli_helpers import ganzoo_here

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "benchmarks.md"


def _sections(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"<!-- bench:([\w-]+) -->\n(.*?)\n<!-- /bench:\1 -->", text,
                                                         re.S)}


def test_the_records_are_package_data():
    assert packaged_root() == REPO / "harness" / "suites" / "records"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"ganzoo.harness.suites" = ["records/*/*.json"]' in pyproject


def test_docs_benchmarks_equals_what_the_committed_records_regenerate():
    """`ganzoo bench --tables-only --suite all --markdown docs/benchmarks.md` leaves the file unchanged."""
    suites = load_suites()
    sections = _sections(DOC.read_text())
    assert sections, "docs/benchmarks.md has no generated sections"
    for name, body in sections.items():
        assert name in suites, f"docs/benchmarks.md has a section for unknown suite {name!r}"
        text, _ = section_text(name, suites[name])
        table = body.split("\nPlots:\n")[0].rstrip()
        assert table == text.rstrip(), (f"docs/benchmarks.md's {name} section differs from its records: run "
                                        f"ganzoo bench --tables-only --suite {name} --markdown docs/benchmarks.md")


def test_every_record_is_well_formed_and_belongs_to_a_suite_preset():
    suites = load_suites()
    root = packaged_root()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        assert folder.name in suites, f"records for unknown suite {folder.name}"
        for record in read_records(folder.name):
            assert record["format"] == FORMAT and record["preset"] in suites[folder.name].presets
            assert (folder / file_name(record["key"])).is_file()
            assert {"metrics", "protocol", "seed", "fingerprint", "environment", "history"} <= set(record)
            assert "run_dir" not in record and "traceback" not in record  # nothing machine-local


def _results_record(tmp_path, metrics):
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"step": 10, "losses": {"G": 1.0}}, {"step": 20, "losses": {"G": 0.5}, "metrics": metrics,
                                               "train_seconds": 3.0}]) + "\n")
    (run / "config.json").write_text(json.dumps({"precision": {"requested": "auto", "resolved": "fp32",
                                                               "reason": "auto: test"}}))
    return {"key": "gan/ring@seed0", "model": "gan", "preset": "gan/ring", "seed": 0, "fingerprint": "abc",
            "status": "ok", "metrics": metrics, "protocol": {}, "run_dir": str(run), "traceback": "x",
            "ran": {"pid": 1}}


def test_a_record_keeps_the_numbers_and_curves_and_drops_local_paths(tmp_path):
    record = make_record("mixtures", _results_record(tmp_path, {"modes_captured": 8}), {"cpu_model": "X"})
    assert record["history"]["evaluations"] == [{"step": 20, "train_seconds": 3.0, "metrics": {"modes_captured": 8}}]
    assert [r["step"] for r in record["history"]["losses"]] == [10, 20]
    assert record["resolved_precision"]["resolved"] == "fp32" and record["environment"] == {"cpu_model": "X"}
    assert "run_dir" not in record and "traceback" not in record and "ran" not in record


@pytest.mark.parametrize("value, verdict, passed", [(8.0, "identical", True), (7.0, "within", True),
                                                    (1.0, "outside", False)])
def test_compare_says_bit_exact_within_the_spread_or_outside(value, verdict, passed):
    committed = [{"seed": s, "metrics": {"m": v}} for s, v in ((0, 8.0), (1, 7.0), (2, 6.0))]
    result = compare({"key": "k", "seed": 0, "metrics": {"m": value}}, committed, ["m"])
    assert result["metrics"]["m"]["verdict"] == verdict and result["passed"] is passed
    assert result["bit_exact"] is (verdict == "identical")


def test_a_record_whose_preset_changed_is_left_out_of_the_table_and_said(tmp_path):
    """A user's records folder may hold a record made before its preset changed: the table leaves it out
    (its numbers are not the preset's now) and says so, with the command that makes it again. The committed
    records never hold one (the test below), so this is for ``--records DIR`` folders."""
    suites = load_suites()
    current = read_records("mixtures")[0]
    old = {**current, "fingerprint": "0" * 16, "metrics": {**current["metrics"], "modes_captured": 123456}}
    folder = tmp_path / "mixtures"
    folder.mkdir()
    (folder / file_name(current["key"])).write_text(json.dumps(current))
    text, data = section_text("mixtures", suites["mixtures"], tmp_path)
    assert "Left out" not in text and data["records"] == [current]
    (folder / file_name(current["key"])).write_text(json.dumps(old))
    text, data = section_text("mixtures", suites["mixtures"], tmp_path)
    assert "123456" not in text and data is None
    assert f"Left out, made with settings that have changed since (the preset in registry.toml" in text
    assert f"{current['key']}. Make them again with `ganzoo bench --suite mixtures --entries {current['preset']} " \
           f"--seeds {current['seed']} --records DIR`" in text


def test_records_then_compare_then_tables_only_through_the_cli(tmp_path, monkeypatch):
    """What a user types: run a suite writing records; re-check a row (bit for bit here); rebuild the table."""
    import os
    import subprocess
    import sys

    registry = tmp_path / "registry.toml"
    registry.write_text('''
[presets."gan/ring"]
model = "gan"
dataset = "ring"
train = { precision = "fp32", steps = 30, batch_size = 32, eval_samples = 200, cpu_threads = 1 }
params = { hidden = 8, depth = 1 }

[suites.tiny]
description = "tiny"
presets = ["gan/ring"]
seeds = [0, 1]
metrics = ["modes_captured", "hq_fraction"]
''')
    env = {**os.environ, "GANZOO_REGISTRY": str(registry)}

    def ganzoo(*args):
        return subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", "bench", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=300)

    made = ganzoo("--suite", "tiny", "--out", "out", "--records", "records")
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in (tmp_path / "records" / "tiny").iterdir()) == ["gan_ring@seed0.json",
                                                                                 "gan_ring@seed1.json"]
    checked = ganzoo("--suite", "tiny", "--entries", "gan/ring", "--seeds", "0", "--compare", "--records", "records",
                     "--out", "again")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "gan/ring@seed0: bit for bit" in checked.stdout and "identical" in checked.stdout
    doc = tmp_path / "doc.md"
    doc.write_text("# Benchmarks\n\n<!-- bench:tiny -->\nold\n<!-- /bench:tiny -->\n")
    rebuilt = ganzoo("--tables-only", "--suite", "all", "--records", "records", "--markdown", str(doc))
    assert rebuilt.returncode == 0, rebuilt.stderr
    text = doc.read_text()
    assert "old" not in text and "| gan/ring | ring | 2/2 |" in text and "records/tiny/" in text
    registry.write_text(registry.read_text().replace("steps = 30", "steps = 31"))  # the preset changed since
    rebuilt = ganzoo("--tables-only", "--suite", "tiny", "--records", "records", "--markdown", str(doc))
    assert rebuilt.returncode == 0, rebuilt.stderr
    text = doc.read_text()
    assert "| gan/ring | ring | 2/2 |" not in text and "Left out, made with settings that have changed" in text
    assert "ganzoo bench --suite tiny --entries gan/ring --seeds 0,1 --records DIR" in text
    registry.write_text(registry.read_text().replace("steps = 31", "steps = 30"))
    monkeypatch.chdir(tmp_path)  # a refusal: in process (the same parsing, command and one-line error)
    wrong = ganzoo_here("bench", "--suite", "tiny", "--entries", "gan/grid", "--compare",
                        env={"GANZOO_REGISTRY": registry})
    assert wrong.returncode != 0 and "gan/grid" in wrong.stderr and "Traceback" not in wrong.stderr


def test_records_are_written_as_each_entry_finishes_so_a_stopped_suite_keeps_them(tmp_path, monkeypatch):
    """--records writes an entry's record when it finishes, not when the suite ends: stopping the suite
    after the first entry (Ctrl-C, a time limit, a crash) keeps that entry's record."""
    from ganzoo.harness.contract.errors import BenchInterrupted
    from ganzoo.harness.suites import runner

    finished = {**_results_record(tmp_path, {"modes_captured": 8, "hq_fraction": 0.5}), "seconds": 3.0}

    def first_entry_then_stopped(name, *, on_record=None, **options):
        on_record(finished, {"cpu_model": "X"})
        raise BenchInterrupted("stopped at gan/ring@seed1 (Ctrl-C); continue with --resume")

    monkeypatch.setattr(runner, "run_suite", first_entry_then_stopped)
    monkeypatch.chdir(tmp_path)
    stopped = ganzoo_here("bench", "--suite", "mixtures", "--out", "out", "--records", "records")
    assert stopped.returncode != 0 and "--resume" in stopped.stderr and "Traceback" not in stopped.stderr
    written = json.loads((tmp_path / "records" / "mixtures" / "gan_ring@seed0.json").read_text())
    assert written["key"] == "gan/ring@seed0" and written["metrics"]["modes_captured"] == 8
    assert written["environment"] == {"cpu_model": "X"}


def test_every_committed_record_was_made_by_its_presets_current_settings():
    """A record whose preset changed in registry.toml since it ran would show old settings' numbers as the
    preset's: re-run it (``ganzoo bench --suite S --entries P --records …``) when a preset changes."""
    from ganzoo.harness.suites.records_tables import split_stale

    suites, stale = load_suites(), []
    for name in suites:
        stale += [f"{name}/{r['key']}" for r in split_stale(suites[name], read_records(name))[1]]
    assert not stale, f"records made with older preset settings: {stale}"
