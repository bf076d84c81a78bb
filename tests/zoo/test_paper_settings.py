"""Where the zoo follows its papers and where it says it does not (issue 12, "Numbers you can trust").

Every built-in model lists its departures from its paper once, in its spec, and its docstring shows the
rendering of that list (``ModelSpec.with_deviations``) instead of a copy; SNGAN
has the paper's standard-CNN discriminator (Miyato et al. 2018, Table 3 (b)); WGAN has the authors'
reference critic schedule.
"""

import ast
import inspect
import math

import pytest
import torch
from torch import nn

from ganzoo.harness.contract import registry
from ganzoo.harness.contract.model_spec import DataInfo, DataKind
from ganzoo.harness.contract.tricks_config import TricksConfig
from ganzoo.zoo.blocks import StandardCNNDiscriminator, spectral_norm_layers
from ganzoo.zoo.sngan import SNGAN
from ganzoo.zoo.wgan import WGAN

from .test_image_models import no_image_metrics, train  # noqa: F401 (autouse fixture)

BUILTIN = ["gan", "dcgan", "cgan", "acgan", "wgan", "wgan-gp", "lsgan", "sngan", "cyclegan", "infogan", "began",
           "ali", "unrolled", "veegan", "dragan", "gdpp", "projgan"]
MNIST32 = DataInfo(name="mnist", kind=DataKind.images, shape=(1, 32, 32), num_classes=10)
CIFAR = DataInfo(name="cifar10", kind=DataKind.images, shape=(3, 32, 32), num_classes=10)
#: Table 3 (b), in order: (kernel, stride, output channels) of every convolution
TABLE_3B = [(3, 1, 64), (4, 2, 64), (3, 1, 128), (4, 2, 128), (3, 1, 256), (4, 2, 256), (3, 1, 512)]


# -- deviations -------------------------------------------------------------------------------

def test_the_builtin_list_is_every_model_ganzoo_ships():
    working, _ = registry.discover()
    assert {p.spec.name for p in working if p.source.distribution == "ganzoo"} == set(BUILTIN)


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_model_states_its_deviations_once_and_its_docstring_renders_them(name):
    plugin = registry.get(name)
    deviations = plugin.spec.deviations
    assert deviations and all(isinstance(d, str) and d.strip() for d in deviations)
    assert plugin.spec.model_validate_json(plugin.spec.model_dump_json()) == plugin.spec  # survives JSON
    module = inspect.getmodule(plugin.cls)
    rendered = _words(module.__doc__)  # what help() and pydoc show
    assert "Deviations from the paper:" in rendered
    for deviation in deviations:
        assert f"- {_words(deviation)}" in rendered
    # written once: the docstring in the source has no list of its own (the spec is rendered into it)
    source = ast.get_docstring(ast.parse(inspect.getsource(module)), clean=False)
    assert "Deviations from the paper" not in source
    assert not [d for d in deviations if _words(d)[:60] in _words(source)]
    assert module.__doc__.startswith(source.rstrip())


def test_the_deviations_rendering_wraps_each_item_and_leaves_a_spec_without_deviations_alone():
    from ganzoo.harness.plugin import Family, ModelSpec

    spec = ModelSpec(name="x-gan", title="x", paper="Test 2026", family=Family.minimax,
                     data_kinds=[DataKind.points2d], default_dataset="ring",
                     deviations=("Short.", "A long deviation " * 12))
    doc = spec.with_deviations("Title.\n\nMethod.\n")
    assert doc.startswith("Title.\n\nMethod.\n\nDeviations from the paper:\n- Short.\n- A long deviation")
    assert all(len(line) <= 100 for line in doc.splitlines())
    assert all(line.startswith(("- ", "  ")) for line in doc.split("paper:\n")[1].splitlines())
    assert _words(doc).endswith(_words("A long deviation " * 12))
    plain = spec.model_copy(update={"deviations": ()})
    assert plain.with_deviations("Title.") == "Title." and plain.with_deviations(None) == ""


def test_ganzoo_show_prints_every_deviation():
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", "show", "wgan-gp"], capture_output=True,
                            text=True, env={**os.environ, "COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    assert "Deviations from the paper" in result.stdout
    for deviation in registry.get("wgan-gp").spec.deviations:
        assert f"- {_words(deviation)}" in _words(result.stdout)




def test_cgan_docstring_states_our_update_rule_and_the_papers():
    doc = inspect.getmodule(registry.get("cgan").cls).__doc__
    assert "Adam" in doc and "SGD" in doc and "momentum" in doc and "dropout" in doc


def test_deviations_default_to_none_for_third_party_specs():
    from ganzoo.harness.contract.model_spec import Family, ModelSpec

    spec = ModelSpec(name="x-gan", title="x", paper="Test 2026", family=Family.minimax,
                     data_kinds=[DataKind.points2d], default_dataset="ring")
    assert spec.deviations == ()


# -- SNGAN: the standard CNN of Table 3 (b) ----------------------------------------------------------

def sngan(data=MNIST32, tricks=None, **params):
    return SNGAN(SNGAN.Config(**params), data, tricks)


def convolutions(D):
    return [m for m in D.modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize("data", [MNIST32, CIFAR], ids=["mnist32", "cifar10"])
def test_sngan_standard_cnn_has_the_table_3_layers(data):
    D = sngan(data, discriminator="standard-cnn", base_channels=64).build()["D"]
    assert isinstance(D, StandardCNNDiscriminator)
    convs = convolutions(D)
    assert [(c.kernel_size, c.stride, c.out_channels) for c in convs] == [
        ((k, k), (s, s), c) for k, s, c in TABLE_3B]
    assert convs[0].in_channels == data.channels
    assert all(c.padding == (1, 1) for c in convs)
    assert D.score.in_features == 512 * 4 * 4 and D.score.out_features == 1  # dense over M/8 × M/8 × 512
    slopes = [m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)]
    assert slopes == [0.1] * 7  # one lReLU(0.1) after every convolution
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)) for m in D.modules())
    weighted = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 8 and set(spectral_norm_layers(D)) == set(weighted)  # spectral norm on every layer
    x = torch.rand(3, *data.shape) * 2 - 1
    assert D(x).shape == (3,)


def test_sngan_standard_cnn_scales_with_base_channels_and_packs():
    D = sngan(discriminator="standard-cnn", base_channels=4).build()["D"]
    assert [c.out_channels for c in convolutions(D)] == [4, 4, 8, 8, 16, 16, 32]
    packed = SNGAN(SNGAN.Config(discriminator="standard-cnn", base_channels=4), MNIST32.model_copy(update={"pack": 2}))
    assert convolutions(packed.build()["D"])[0].in_channels == 2  # PacGAN: two samples' channels


def test_sngan_standard_cnn_honours_the_architecture_tricks():
    plain = sngan(discriminator="standard-cnn", base_channels=4).build()["D"]
    D = sngan(tricks=TricksConfig(minibatch_std=True, minibatch_discrimination=5), discriminator="standard-cnn",
              base_channels=4).build()["D"]
    assert D.mbstd is not None and D.mbdisc is not None
    assert D.score.in_features == plain.score.in_features + 4 * 4 + 5  # +1 map at 4×4, +5 closeness features
    assert D(torch.rand(4, 1, 32, 32)).shape == (4,)


def test_sngan_keeps_the_dcgan_discriminator_as_the_default():
    assert SNGAN.Config().discriminator == "dcgan"
    D = sngan(base_channels=4).build()["D"]
    assert not isinstance(D, StandardCNNDiscriminator) and len(spectral_norm_layers(D)) == 4  # 3 convs + score


def test_sngan_standard_cnn_trains_two_finite_steps_at_32(tmp_path, shared_data):
    # n_dis 5 (the model's default) set explicitly: the sngan/mnist preset runs the paper's setting C (n_dis 1)
    trainer, summary = train(tmp_path, shared_data, "sngan", extra=["discriminator=standard-cnn", "n_dis=5"],
                             resolution=32)
    assert isinstance(trainer.nets.D, StandardCNNDiscriminator)
    assert summary["steps"] == 2 and not trainer.counters  # no non-finite loss, no skipped step
    losses = [v for record in trainer.run_dir.read_metrics() for v in record.get("losses", {}).values()]
    assert losses and all(math.isfinite(v) for v in losses)
    assert trainer.phase_calls == {"discriminator": 10, "generator": 2}  # n_dis = 5


# -- WGAN: the reference critic schedule --------------------------------------------------------------

def critic_phase(**params):
    return WGAN(WGAN.Config(**params), MNIST32).phases()[0]


def test_wgan_reference_schedule_is_the_authors_diters():
    phase = critic_phase(critic_schedule="reference")
    for step in range(0, 2001):
        expected = 100 if step < 25 or step % 500 == 0 else 5
        assert phase.repeats_at(step) == expected, step
    assert [phase.repeats_at(s) for s in (0, 24, 25, 499, 500, 501, 1000)] == [100, 100, 5, 5, 100, 5, 100]


def test_wgan_reference_schedule_uses_n_critic_between_the_bursts():
    phase = critic_phase(critic_schedule="reference", n_critic=3)
    assert [phase.repeats_at(s) for s in (0, 25, 500, 777)] == [100, 3, 100, 3]


@pytest.mark.parametrize("n_critic", [1, 5, 7])
def test_wgan_constant_schedule_is_n_critic(n_critic):
    phase = critic_phase(critic_schedule="constant", n_critic=n_critic)
    assert phase.repeats == n_critic
    assert {phase.repeats_at(s) for s in (0, 1, 24, 25, 500, 1000)} == {n_critic}


def test_wgan_defaults_to_the_reference_schedule_and_runs_it(tmp_path, shared_data):
    assert WGAN.Config().critic_schedule == "reference"
    trainer, summary = train(tmp_path, shared_data, "wgan", steps=1, resolution=28)
    assert summary["steps"] == 1 and trainer.phase_calls == {"critic": 100, "generator": 1}
