"""`ganzoo check`: the built-in gan passes; deliberately broken third-party plugins fail with precise messages;
the example plugin installs as a real distribution and passes; the pytest plugin reports the same checks."""

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from ganzoo.harness.cli.check import app
from ganzoo.harness.check.conformance import CHECKS, run_checks

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "examples" / "plugin-template"

BROKEN = '''
import math

import torch
from torch import nn
from ganzoo.harness.contract.gan_plugin import PhaseResult
from ganzoo.harness import losses
from ganzoo.harness.contract.model_spec import DataKind, Family, ModelSpec
from ganzoo.zoo.gan import GAN


def _spec(name):
    return ModelSpec(name=name, title=name, paper="Test 2026", family=Family.minimax,
                     data_kinds=[DataKind.points2d], default_dataset="ring")


class FixedNoiseGAN(GAN):  # its own generator, seeded once per call: every seed gives the same samples
    spec = _spec("fixed-noise-gan")

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(torch.randn(n, self.config.latent_dim, generator=torch.Generator().manual_seed(0)))


class ConstantGAN(GAN):
    spec = _spec("constant-gan")

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(torch.zeros(n, self.config.latent_dim))


class GlobalNoiseGAN(GAN):  # torch's global stream: not reproducible from the seed it is given
    spec = _spec("global-noise-gan")

    def sample(self, nets, ctx, n, labels=None):
        return nets.G(torch.randn(n, self.config.latent_dim))


class SelfBackpropGAN(GAN):
    spec = _spec("self-backprop-gan")

    def discriminator_step(self, nets, batch, ctx):
        result = super().discriminator_step(nets, batch, ctx)
        result.loss.backward(retain_graph=True)  # BACKWARD
        return result


class SelfStepGAN(GAN):
    spec = _spec("self-step-gan")

    def generator_step(self, nets, batch, ctx):
        result = super().generator_step(nets, batch, ctx)
        torch.optim.SGD(nets.G.parameters(), lr=0.1).step()  # STEP
        return result


class MoverGAN(GAN):
    spec = _spec("mover-gan")

    def generator_step(self, nets, batch, ctx):
        z = torch.randn(len(batch), self.config.latent_dim).to(batch.real.device)  # MOVE
        fake_logits = nets.D(nets.G(z))
        return PhaseResult(losses.bce_generator_nonsaturating(fake_logits), d_fake=fake_logits)


class LibraryMoveGAN(GAN):  # a library the plugin calls moves tensors: not the plugin's doing
    spec = _spec("library-move-gan")

    def generator_step(self, nets, batch, ctx):
        import helper_lib

        fake_logits = nets.D(helper_lib.same_device(nets.G(ctx.latent(len(batch), self.config.latent_dim))))
        return PhaseResult(losses.bce_generator_nonsaturating(fake_logits), d_fake=fake_logits)


class UnboundedImageGAN(GAN):  # images without a final tanh
    spec = ModelSpec(name="unbounded-image-gan", title="x", paper="Test 2026", family=Family.minimax,
                     data_kinds=[DataKind.images], default_dataset="mnist")

    def build(self):
        shape, size = self.data.shape, math.prod(self.data.shape)
        return {"G": nn.Sequential(nn.Linear(self.config.latent_dim, size), nn.Unflatten(1, shape)),
                "D": nn.Sequential(nn.Flatten(), nn.Linear(size * self.data.pack, 1), nn.Flatten(0))}

    def sample(self, nets, ctx, n, labels=None):
        return 3.0 * nets.G(ctx.latent(n, self.config.latent_dim)) + 1.5


class OwnR1GAN(GAN):  # its own R1 through the context: the harness's r1_gamma would apply a second one
    spec = _spec("own-r1-gan")

    def discriminator_step(self, nets, batch, ctx):
        result = super().discriminator_step(nets, batch, ctx)
        result.loss = result.loss + ctx.r1_penalty(nets.D, batch.real)
        return result


class OldPackGAN(GAN):  # written before unsupported_tricks: refuses packing with its own error
    spec = _spec("old-pack-gan")

    def build(self):
        if self.data.pack > 1:
            raise ValueError("OldPackGAN judges one sample at a time, not packs")  # PACK
        return super().build()


class OwnPenaltyGAN(GAN):
    spec = _spec("own-penalty-gan")

    def discriminator_step(self, nets, batch, ctx):
        result = super().discriminator_step(nets, batch, ctx)
        x = batch.real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(nets.D(x).sum(), x, create_graph=True)  # GRAD
        result.loss = result.loss + grad.pow(2).sum(1).mean()
        return result
'''

ENTRY_POINTS = {name: f"broken_plugins:{cls}" for name, cls in [
    ("fixed-noise-gan", "FixedNoiseGAN"), ("constant-gan", "ConstantGAN"), ("global-noise-gan", "GlobalNoiseGAN"),
    ("self-backprop-gan", "SelfBackpropGAN"), ("self-step-gan", "SelfStepGAN"), ("mover-gan", "MoverGAN"),
    ("own-penalty-gan", "OwnPenaltyGAN"), ("library-move-gan", "LibraryMoveGAN"), ("own-r1-gan", "OwnR1GAN"),
    ("old-pack-gan", "OldPackGAN"),
    ("unbounded-image-gan", "UnboundedImageGAN")]}

HELPER = '''
def same_device(x):
    return x.to(x.device)
'''


def line_of(marker: str) -> int:
    return next(i for i, line in enumerate(BROKEN.splitlines(), 1) if f"# {marker}" in line)


@pytest.fixture
def broken(plugin_site):
    sys.modules.pop("broken_plugins", None)
    importlib.invalidate_caches()
    for module in ("broken_plugins", "helper_lib"):
        sys.modules.pop(module, None)
    return plugin_site("broken-dist", ENTRY_POINTS, {"broken_plugins": BROKEN, "helper_lib": HELPER})


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    return result.exit_code, result.output


def test_builtin_gan_passes_every_check():
    started = time.perf_counter()
    code, output = cli("gan")
    seconds = time.perf_counter() - started
    assert code == 0, output
    assert f"gan passed ({len(CHECKS)} pass)" in output
    for check in CHECKS:
        assert any(line.startswith(f"│ {check} ") and "│ pass " in line for line in output.splitlines()), check
    assert "replicas bit-identical" in output and "bit for bit" in output
    print(f"ganzoo check gan: {seconds:.1f} s")
    assert torch.Tensor.to is torch._C.TensorBase.to  # the contract monitor put torch back as it was


@pytest.mark.parametrize(("model", "detail"), [
    ("fixed-noise-gan", "generator ignores the seed: samples for seeds 0 and 1 are identical"),
    ("constant-gan", "generator ignores the seed: samples for seeds 0 and 1 are identical"),
    ("global-noise-gan", "samples for the same seed differ (seed 0 twice, max |Δ| = "),
])
def test_a_generator_that_ignores_the_seed_fails(broken, model, detail):
    report = run_checks(model, only=["samples", "seed"])
    assert not report.ok
    assert report.result("samples").status == "pass"
    seed = report.result("seed")
    assert seed.status == "fail" and seed.detail.startswith(detail), seed.detail
    assert "ctx.latent(n, dim)" in seed.detail


@pytest.mark.parametrize(("model", "detail", "marker"), [
    ("self-backprop-gan", "phase 'discriminator' calls .backward() itself", "BACKWARD"),
    ("self-step-gan", "phase 'generator' calls SGD.step() itself", "STEP"),
    ("mover-gan", "phase 'generator' moves a tensor between devices itself with .to(device)", "MOVE"),
    ("own-penalty-gan", "phase 'discriminator' calls torch.autograd.grad() itself", "GRAD"),
])
def test_a_plugin_doing_the_harness_work_fails_the_contract_check(broken, model, detail, marker):
    report = run_checks(model, only=["contract", "fp32"])
    contract, fp32 = report.results
    assert contract.status == "fail"
    assert contract.detail.startswith(f"{detail} (at site/broken_plugins.py:{line_of(marker)}); "), contract.detail
    assert fp32.status == "skip" and "breaks the contract" in fp32.detail


def test_device_moves_inside_libraries_the_plugin_calls_are_not_its_own(broken):
    report = run_checks("library-move-gan", only=["contract"])
    assert report.ok, report.describe()


def test_the_tricks_check_reports_a_trick_that_doubles_the_plugins_own_penalty(broken):
    report = run_checks("own-r1-gan", only=["tricks"])
    (tricks,) = report.results
    assert tricks.status == "fail"
    assert tricks.detail.startswith("train.tricks.r1_gamma=1.0 adds the harness's R1 penalty to every discriminator "
                                    "update, and own-r1-gan's phase 'discriminator' computes its own with "
                                    "ctx.r1_penalty"), tricks.detail
    assert 'unsupported_tricks = {"r1_gamma"' in tricks.detail and "nets.D.inner" not in tricks.detail


def test_a_plugin_refusing_pack_with_its_own_error_is_told_the_one_line_declaration(broken):
    report = run_checks("old-pack-gan", only=["tricks"])
    (tricks,) = report.results
    assert tricks.status == "fail"
    assert tricks.detail == (
        "with pack=2 alone: ValueError: OldPackGAN judges one sample at a time, not packs (at "
        f"site/broken_plugins.py:{line_of('PACK')}). If OldPackGAN cannot take pack, declare it in the class: "
        'unsupported_tricks = {"pack": "OldPackGAN judges one sample at a time, not packs"}, and runs that ask '
        "for it are refused with that reason (alone, instance_noise, r1_gamma train)"), tricks.detail


def test_images_outside_the_value_range_fail(broken, tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (16, 16), (60 * i, 20, 200)).save(folder / f"{i}.png")
    report = run_checks("unbounded-image-gan", dataset=f"folder:{folder}", only=["samples"],
                        assignments=["latent_dim=8", "train.resolution=16"])
    (samples,) = report.results
    assert samples.status == "fail", samples.detail
    assert f"but folder:{folder}'s value_range is [-1, 1] (end the generator with tanh" in samples.detail


def test_cli_exit_code_and_table_for_a_failing_plugin(broken):
    code, output = cli("self-backprop-gan", "--only", "contract,seed")
    assert code == 1
    assert "FAIL" in output and "calls .backward() itself" in output and "self-backprop-gan failed (1 pass, 1 fail)" in output
    code, output = cli("no-such-gan", "--only", "seed")
    assert code == 1 and "unknown model 'no-such-gan'" in output
    code, output = cli("gan", "--only", "sead")
    assert code == 2 and "unknown check(s) sead" in output


def _pytest_plugin_args() -> list[str]:
    """`-p` until ganzoo is installed with its pytest11 entry point (then the plugin loads by itself)."""
    installed = any(ep.value == "ganzoo.harness.check.pytest_plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "ganzoo.harness.check.pytest_plugin"]


def test_pytest_plugin_turns_checks_into_tests(broken, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *_pytest_plugin_args(), "-p", "no:cacheprovider", "-rA",
         "--ganzoo-plugin", "fixed-noise-gan", "-k", "seed or presets", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "PASSED ganzoo[fixed-noise-gan]::presets" in output
    assert "FAILED ganzoo[fixed-noise-gan]::seed" in output
    assert "generator ignores the seed: samples for seeds 0 and 1 are identical" in output
    assert "1 failed, 1 passed, 10 deselected" in output  # the other 10 checks


@pytest.fixture(scope="module")
def example_site(tmp_path_factory):
    """The plugin template pip-installed (a real dist-info with its entry point) into a folder of its own."""
    root = tmp_path_factory.mktemp("example")
    source = shutil.copytree(TEMPLATE, root / "src", ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                                   "__pycache__"))
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(source)], check=True, capture_output=True, timeout=300)
    return source, site


def test_example_plugin_installs_and_passes_ganzoo_check(example_site):
    source, site = example_site
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "400"}
    listing = subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", "list", "--json"], capture_output=True,
                             text=True, timeout=300, env=env)
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["ragan"]["distribution"] == "ganzoo-ragan" and rows["ragan"]["family"] == "relativistic"
    assert rows["ragan"]["status"] == "ok" and "gan" in rows
    check = subprocess.run([sys.executable, "-m", "ganzoo.harness.cli.check", "ragan"], capture_output=True,
                           text=True, timeout=300, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"ragan passed ({len(CHECKS)} pass)" in check.stdout
    assert "preset ragan/check on ring" in check.stdout  # the plugin's own tiny check preset


def test_example_plugin_own_tests_pass_with_the_pytest_plugin(example_site, tmp_path):
    source, site = example_site
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("GANZOO_DATA", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *_pytest_plugin_args(), "-p", "no:cacheprovider", "-q",
         "--ganzoo-plugin", "ragan", "-k", "not data-parallel and not resume and not bf16", str(source / "tests")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "18 passed, 1 skipped, 3 deselected" in output  # 9 loss tests + 9 checks; the MNIST test skips


BUILTIN_TINY = {  # small widths so each check stays a few seconds; everything else is the model's own
    "wgan-gp": ["hidden=16"],
    "dcgan": ["base_channels=4"], "cgan": ["base_channels=4"], "acgan": ["base_channels=4"],
    "projgan": ["base_channels=4", "n_dis=1"],
    # wgan: n_critic every iteration, not the reference schedule's 100 critic steps in each of the first 25
    # iterations (the schedule itself: tests/zoo/test_paper_settings.py; phases that run on some steps only
    # resume bit for bit: tests/contract/test_v3.py)
    "wgan": ["base_channels=4", "critic_schedule=constant"],
    "lsgan": ["base_channels=4"], "sngan": ["base_channels=4"],
    "cyclegan": ["g_channels=4", "d_channels=4", "n_blocks=1"],
    "infogan": ["base_channels=4", "q_hidden=8"],
    "began": ["channels=4", "hidden_dim=8", "latent_dim=8", "convs=1"],
}


@pytest.mark.parametrize("model", sorted(BUILTIN_TINY))
def test_every_builtin_model_passes_ganzoo_check(model, shared_data):
    report = run_checks(model, assignments=BUILTIN_TINY[model], data_dir=shared_data)
    failures = [f"{r.check}: {r.detail}" for r in report.results if r.status == "fail"]
    assert not failures, failures
