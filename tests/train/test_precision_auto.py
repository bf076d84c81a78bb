"""precision=auto: bf16 only where the hardware runs it natively, chosen at run time and recorded.

The CPU probe is faked both ways, so these pass on any machine (with or without AVX512-BF16/AMX).
"""

import json
import warnings

import pytest
import torch

from ganzoo.harness.contract.config import TrainConfig
from ganzoo.harness.contract.presets import registry_presets
from ganzoo.harness.train import precision as precision_module
from ganzoo.harness.train.precision import PrecisionPolicy, choose_precision, cpu_bf16_features, precision_for

CPU = torch.device("cpu")


@pytest.fixture
def native_bf16(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_bf16_features", lambda: ["AVX512-BF16"])


@pytest.fixture
def emulated_bf16(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_bf16_features", lambda: [])


def test_auto_is_the_default():
    assert TrainConfig().precision == "auto"


def test_auto_picks_bf16_on_a_cpu_with_native_bf16(native_bf16):
    choice = choose_precision("auto", CPU)
    assert choice.resolved == "bf16" and "AVX512-BF16" in choice.reason and choice.requested == "auto"


def test_auto_picks_fp32_on_a_cpu_without_native_bf16(emulated_bf16):
    choice = choose_precision("auto", CPU)
    assert choice.resolved == "fp32" and "no native bf16" in choice.reason


def test_explicit_bf16_without_native_support_runs_but_warns_once_in_one_line(emulated_bf16):
    with pytest.warns(RuntimeWarning, match="emulated.*19× slower") as caught:
        policy = PrecisionPolicy("bf16", CPU)
    assert policy.name == "bf16" and len(caught) == 1 and "\n" not in str(caught[0].message)


def test_explicit_bf16_with_native_support_does_not_warn(native_bf16):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PrecisionPolicy("bf16", CPU).name == "bf16"


def test_the_real_probe_answers_with_torchs_own_checks():
    features = cpu_bf16_features()
    assert set(features) <= {"AVX512-BF16", "AMX"}
    assert bool(features) == bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def test_a_resumed_auto_run_keeps_the_precision_it_started_with(tmp_path, emulated_bf16):
    (tmp_path / "config.json").write_text(json.dumps({"precision": {
        "requested": "auto", "resolved": "bf16", "reason": "auto: this CPU has native bf16 (AMX)"}}))
    kept = precision_for("auto", CPU, tmp_path)
    assert kept.resolved == "bf16" and "kept bf16" in kept.reason
    assert precision_for("auto", CPU, None).resolved == "fp32"  # a new run decides afresh
    assert precision_for("fp32", CPU, tmp_path).resolved == "fp32"  # an explicit choice is never overridden


def test_no_image_preset_hard_codes_bf16_and_the_2d_presets_pin_fp32():
    for name, preset in registry_presets().items():
        assert preset.train.get("precision") != "bf16", f"{name} hard-codes bf16: leave it to precision=auto"
        if preset.dataset in ("ring", "grid"):
            assert preset.train.get("precision") == "fp32", f"{name}: the 2-D presets pin fp32 (records travel)"


@pytest.mark.parametrize("fake", ["native_bf16", "emulated_bf16"])
def test_a_run_records_and_prints_the_resolved_precision_and_why(fake, request, tmp_path, capsys):
    request.getfixturevalue(fake)
    from ganzoo.harness.report.rundir import RunDir
    from ganzoo.harness.train.resolve import resolve_run
    from ganzoo.harness.train.trainer import Trainer

    run, plugin = resolve_run("gan", dataset="ring", train_overrides={
        "steps": 2, "batch_size": 16, "evaluate": False, "log_every": 1, "precision": "auto"},
        assignments=["hidden=8", "depth=1"])
    summary = Trainer(run, plugin, RunDir(tmp_path / "r"), cpu=True, progress=False).fit()
    expected = "bf16" if fake == "native_bf16" else "fp32"
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["train"]["precision"] == "auto" and config["precision"]["resolved"] == expected
    assert summary["precision"]["mode"] == expected and summary["precision"]["requested"] == "auto"
    assert summary["precision"]["reason"] == config["precision"]["reason"]
    assert f"Precision: **{expected}**" in (tmp_path / "r" / "report.md").read_text()
    assert f"precision: {expected} (auto:" in capsys.readouterr().err
