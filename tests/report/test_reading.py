"""The one-line reading of a run's numbers: it names the failure a pattern shows, calls only clearly few
modes a collapse, and never suggests what the run already uses (issue 25)."""

import json

import pytest

from ganzoo.harness.report.markdown import write_report
from ganzoo.harness.report.reading import reading


def mixture(captured, total, hq):
    return {"modes_captured": captured, "modes_total": total, "hq_fraction": hq}


def packed(pack):
    return {"model": "gan", "dataset": "grid", "train": {"tricks": {"pack": pack}}}


@pytest.mark.parametrize("metrics, expected", [
    (mixture(8, 8, 0.95), "covered and sharp"),
    (mixture(25, 25, 0.93), "covered and sharp"),
    (mixture(22, 25, 0.92), "most modes, 3 modes dropped"),
    (mixture(7, 8, 0.9), "most modes, 1 mode dropped"),  # 7/8 = 87.5 %, under MOST_MODES
    (mixture(6, 8, 0.9), "most modes, 2 modes dropped"),
    (mixture(2, 8, 0.95), "mode collapse"),
    (mixture(12, 25, 0.95), "mode collapse"),
    (mixture(6, 8, 0.2), "blurred"),
    (mixture(1, 8, 0.1), "neither covered nor sharp"),
], ids=["8/8", "25/25", "22/25", "7/8", "6/8", "2/8", "12/25", "blur", "early"])
def test_mixture_reading_names_the_pattern(metrics, expected):
    line = reading(metrics)
    assert expected in line
    assert ("collapse" in line) == (expected == "mode collapse")


def test_most_modes_at_high_quality_is_not_called_collapse():
    line = reading(mixture(22, 25, 0.92), packed(1))
    assert "collapse" not in line and "most modes" in line and "22/25" in line


@pytest.mark.parametrize("pack", [2, 3])
def test_a_packed_run_is_not_told_to_pack_as_it_already_does(pack):
    for metrics in (mixture(2, 8, 0.95), mixture(20, 25, 0.9)):
        line = reading(metrics, packed(pack))
        assert f"pack={pack}" not in line and "a PacGAN preset" not in line
        assert f"already packs {pack}" in line and f"pack={pack + 1}" in line


def test_pack_advice_follows_the_run():
    assert "train.tricks.pack=2 or a PacGAN preset" in reading(mixture(2, 8, 0.95))  # no config: unpacked
    assert "train.tricks.pack=2" in reading(mixture(2, 8, 0.95), {"train": {}})
    line = reading(mixture(2, 8, 0.95), packed(4))
    assert "train.tricks.pack=" not in line and "already packs 4" in line


def test_unknown_mode_count_is_not_judged():
    line = reading({"modes_captured": 3, "hq_fraction": 0.9})
    assert "collapse" not in line and "not recorded" in line


def test_report_reads_the_runs_packing(tmp_path):
    """report.md's Reading line gets the run's config: a PacGAN2 run is not told to try PacGAN."""
    (tmp_path / "config.json").write_text(json.dumps(packed(2)))
    (tmp_path / "summary.json").write_text(json.dumps({"metrics": mixture(3, 25, 0.95), "steps": 10}))
    write_report(tmp_path)
    (line,) = [x for x in (tmp_path / "report.md").read_text().splitlines() if x.startswith("Reading:")]
    assert "mode collapse" in line and "already packs 2" in line and "pack=2" not in line
