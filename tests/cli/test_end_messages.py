"""What a user reads at the end of a run and from `ganzoo eval` (issue #26): no internal names, no claims
that are not true of the run."""

import pytest

from ganzoo.harness.evaluation.images import choose_plan
from ganzoo.harness.contract.errors import MetricError
from ganzoo.harness.report.reading import reading

from ..cli_helpers import ganzoo


def test_accuracy_on_an_unconditional_model_says_so_not_what_metric_inputs_lack():
    with pytest.raises(MetricError) as caught:
        choose_plan("mnist", False, metrics=["fid", "accuracy"])
    message = str(caught.value)
    assert message.startswith("metric 'accuracy' (conditional accuracy) asks whether each sample shows the class "
                              "it was generated for, and this model is unconditional")
    assert "MetricInputs" not in message and "fake_labels" not in message and "class-coverage" in message
    assert choose_plan("mnist", True, metrics=["accuracy"]).metrics == ("conditional-accuracy",)


def test_a_run_without_evaluation_does_not_blame_the_feature_network(tmp_path):
    assert reading({}, evaluated=False).startswith("not evaluated (train.evaluate=false)")
    assert reading({}).startswith("no quality metric for this data")
    out = tmp_path / "run"
    result = ganzoo("run", "gan", "--steps", "2", "--batch-size", "16", "--out", str(out), "--no-progress",
                    "--set", "hidden=8", "--set", "train.evaluate=false")
    assert result.returncode == 0, result.stderr
    assert "reading: not evaluated (train.evaluate=false)" in result.stdout
    assert "no feature network" not in result.stdout + (out / "report.md").read_text()
    assert "Reading: not evaluated" in (out / "report.md").read_text()
