"""CycleGAN: the unpaired MNIST pair and folder datasets, the history pool, the paper's losses,
training and exact resume through the real harness, translating a folder, label preservation.

The label-preservation tests use the harness's MNIST classifier, trained once per pytest session
(~1.5 min on one thread) unless ``GANZOO_TEST_CACHE`` points at a folder that already holds it.
"""

from __future__ import annotations

import math
import shutil

import pytest
import torch
from PIL import Image
from torch import nn

from ganzoo.harness.train import checkpoint
from ganzoo.harness.contract.context import NoiseSource
from ganzoo.harness.contract.errors import ConfigError, DataError
from ganzoo.harness.data.base import DataRequest
from ganzoo.harness.data.catalog import dataset_kind, open_dataset
from ganzoo.harness.data.mnist_files import load_mnist
from ganzoo.harness.data.mnist_pairs import split_halves, thicken
from ganzoo.harness.metrics.label_preservation import label_preservation, to_grayscale
from ganzoo.harness.contract.gan_plugin import Batch, Networks
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.report.rundir import RunDir
from ganzoo.harness.contract.model_spec import DataInfo, DataKind
from ganzoo.harness.train.trainer import Trainer
from ganzoo.harness.cli.translate import translate, translate_folder
from ganzoo.zoo.cyclegan import CycleGAN, CycleGANConfig
from ganzoo.zoo.translation_blocks import ImagePool, PatchDiscriminator, ResnetGenerator, patch_size

from ..metrics_fixtures import shipped_classifier

TINY = ["g_channels=4", "d_channels=4", "n_blocks=1", "pool_size=4", "exemplars=8"]


@pytest.fixture(scope="module")
def classifier():
    return shipped_classifier()


def make(tmp_path, shared_data, steps=3, resume=False, dataset="mnist-thickness", extra=(), **overrides):
    run, plugin = resolve_run("cyclegan", dataset=dataset, train_overrides={
        # the end-of-run label preservation on 200 digits per domain, not 2,500: the same code, 12× less classifying
        "steps": steps, "batch_size": 4, "log_every": 1, "precision": "fp32", "checkpoint_every": 0, "eval_samples": 200,
        **overrides},
        assignments=[*TINY, *extra])
    return Trainer(run, plugin, RunDir(tmp_path, resume=resume), data_dir=shared_data, cpu=True, progress=False,
                   resume=resume)


# -- data ------------------------------------------------------------------------------------------

def test_mnist_pair_is_unpaired_and_b_is_the_dilated_other_half(shared_data):
    source = open_dataset("mnist-thickness", DataRequest(seed=0, data_dir=shared_data))
    assert dataset_kind("mnist-thickness") == DataKind.unpaired_images
    assert source.info.kind == DataKind.unpaired_images and source.info.shape == (1, 28, 28)
    images, labels = load_mnist(shared_data, "test")
    index_a, index_b = split_halves(len(images))
    assert set(index_a.tolist()).isdisjoint(index_b.tolist()) and len(index_a) + len(index_b) == len(images)
    assert torch.equal(source.a.images[:, 0], images[index_a])  # A: the first half as it is
    assert torch.equal(source.b.images, thicken(images[index_b].unsqueeze(1)))  # B: the other half, dilated
    assert torch.equal(source.a.labels, labels[index_a]) and torch.equal(source.b.labels, labels[index_b])
    ink_a, ink_b = (source.a.images > 127).float().mean(), (source.b.images > 127).float().mean()
    assert ink_b > 1.5 * ink_a  # thicker strokes: clearly more ink
    batch = source.next_batch(16)
    assert batch.real.shape == batch.real_b.shape == (16, 1, 28, 28) and batch.labels is None  # labels: eval only
    assert -1 <= batch.real.min() and batch.real_b.max() <= 1
    assert source.reference(8, seed=1).labels.shape == source.reference_b(8, seed=1).labels.shape == (8,)


def test_dilation_keeps_geometry_and_grows_strokes():
    image = torch.zeros(1, 1, 9, 9, dtype=torch.uint8)
    image[0, 0, 4, 4] = 200
    thick = thicken(image)
    assert thick.sum() == 9 * 200 and torch.equal(thick[0, 0, 3:6, 3:6], torch.full((3, 3), 200, dtype=torch.uint8))


def test_unpaired_source_resumes_its_order_and_draws_domains_independently(shared_data):
    first = open_dataset("mnist-thickness", DataRequest(seed=3, data_dir=shared_data))
    first.next_batch(7)
    state = first.state_dict()
    expected = first.next_batch(5)
    second = open_dataset("mnist-thickness", DataRequest(seed=3, data_dir=shared_data))
    second.load_state_dict(state)
    again = second.next_batch(5)
    assert torch.equal(expected.real, again.real) and torch.equal(expected.real_b, again.real_b)
    # A and B orders are seeded differently: position i of A and of B are unrelated permutations
    assert not torch.equal(first.a._permutation, first.b._permutation)


def _write_images(folder, count, size, colour):
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (size + i, size), colour).save(folder / f"{i}.png")


def test_unpaired_folders_dataset(tmp_path):
    _write_images(tmp_path / "horses", 3, 20, (200, 10, 10))
    _write_images(tmp_path / "zebras", 5, 24, (10, 10, 200))
    name = f"unpaired:{tmp_path / 'horses'},{tmp_path / 'zebras'}"
    assert dataset_kind(name) == DataKind.unpaired_images
    source = open_dataset(name, DataRequest(seed=0, resolution=16))
    assert source.info.shape == (3, 16, 16) and len(source.a) == 3 and len(source.b) == 5
    batch = source.next_batch(4)  # more than domain A holds: its epoch wraps independently of B's
    assert batch.real.shape == batch.real_b.shape == (4, 3, 16, 16)
    assert batch.real[:, 0].mean() > 0.5 > batch.real_b[:, 0].mean()  # A red, B blue
    assert source.describe()["domain_b"]["size"] == 5
    (tmp_path / "h2z").mkdir()
    (tmp_path / "horses").rename(tmp_path / "h2z" / "trainA")
    (tmp_path / "zebras").rename(tmp_path / "h2z" / "trainB")
    assert len(open_dataset(f"unpaired:{tmp_path / 'h2z'}", DataRequest(seed=0, resolution=8)).b) == 5
    with pytest.raises(DataError, match="separated by one comma"):
        open_dataset(f"unpaired:{tmp_path},{tmp_path},{tmp_path}", DataRequest(seed=0))
    with pytest.raises(DataError, match="domain B folder"):
        open_dataset(f"unpaired:{tmp_path / 'h2z' / 'trainA'},{tmp_path / 'missing'}", DataRequest(seed=0))


def test_cyclegan_needs_unpaired_data():
    with pytest.raises(ConfigError, match="unpaired_images"):
        resolve_run("cyclegan", dataset="mnist")


# -- pieces of the method ----------------------------------------------------------------------------

def test_history_pool_fills_then_returns_a_mix_and_is_checkpointed():
    torch.manual_seed(0)
    pool = ImagePool(4, (1, 2, 2))
    first = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    assert torch.equal(pool.query(first), first) and int(pool.count) == 4  # filling: handed on unchanged
    new = (100 + torch.arange(64.0)).view(64, 1, 1, 1).expand(64, 1, 2, 2)  # image i has value 100 + i
    out = pool.query(new)[:, 0, 0, 0]
    swapped = out != new[:, 0, 0, 0]
    assert 16 < swapped.sum() < 48  # each image is swapped for an older one with probability ½
    assert (out[swapped] < 100 + torch.arange(64.0)[swapped]).all()  # … and what comes back is older
    assert (out[swapped] < 100).any() and (out[swapped] >= 100).any()  # from the first fill and from this batch
    assert int(pool.count) == 4
    assert {"images", "count"} == set(pool.state_dict())  # buffers: saved and restored with the networks
    restored = ImagePool(4, (1, 2, 2))
    restored.load_state_dict(pool.state_dict())
    assert torch.equal(restored.images, pool.images) and int(restored.count) == 4
    assert torch.equal(ImagePool(0, (1, 2, 2)).query(new), new)


def test_networks_follow_the_paper_and_scale_with_resolution():
    g = ResnetGenerator(3, 32, base_channels=8, n_blocks=2)
    assert g(torch.zeros(2, 3, 32, 32)).shape == (2, 3, 32, 32)
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in g.modules()) == 5 + 2 * 2  # c7s1, d, d, u, u + 2 per block
    assert patch_size(3) == 70 and patch_size(1) == 16
    d = PatchDiscriminator(3, 8, layers=3)
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # the paper's 70×70 PatchGAN output
    plugin = CycleGAN(CycleGANConfig(), DataInfo(name="x", kind=DataKind.unpaired_images, shape=(3, 256, 256)))
    assert plugin.n_blocks == 9 and plugin.d_layers == 3
    small = CycleGAN(CycleGANConfig(), DataInfo(name="x", kind=DataKind.unpaired_images, shape=(1, 28, 28)))
    assert small.n_blocks == 3 and small.d_layers == 1
    specs = plugin.optimizers()
    assert set(specs) == {"G_ab", "G_ba", "D_a", "D_b"}
    assert all(s.lr == 2e-4 and s.betas == (0.5, 0.999) and s.decay == "linear" and s.decay_start == 0.5
               for s in specs.values())
    config = CycleGANConfig()
    assert (config.lambda_cycle, config.lambda_identity, config.pool_size) == (10.0, 0.5, 50)
    with pytest.raises(ValueError, match="divisible by 4"):
        ResnetGenerator(1, 30)


class _Shift(nn.Module):
    def __init__(self, by: float) -> None:
        super().__init__()
        self.by = by

    def forward(self, x):
        return x + self.by


class _Constant(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, x):
        return torch.full((x.shape[0], 1, 3, 3), self.value)


class _Ctx:
    real_target = 1.0


def test_cycle_and_identity_losses_are_the_papers():
    plugin = CycleGAN(CycleGANConfig(pool_size=0, exemplars=0),
                      DataInfo(name="x", kind=DataKind.unpaired_images, shape=(1, 4, 4)))
    a, b = torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4)
    batch = Batch(real=a, real_b=b)
    identity = Networks(G_ab=nn.Identity(), G_ba=nn.Identity(), D_a=_Constant(1.0), D_b=_Constant(1.0))
    result = plugin.generator_step(identity, batch, _Ctx())
    assert result.logs["cycle_a"] == 0 and result.logs["cycle_b"] == 0 and float(result.loss) == 0
    # G_ab adds 0.1, G_ba is the identity; D says 0 ("fake") everywhere:
    # adversarial (0−1)² twice = 2; cycle λ·(0.1 + 0.1) = 2; identity 0.5·λ·(‖G_ab(b)−b‖₁ + 0) = 0.5
    shifted = Networks(G_ab=_Shift(0.1), G_ba=nn.Identity(), D_a=_Constant(0.0), D_b=_Constant(0.0))
    result = plugin.generator_step(shifted, batch, _Ctx())
    assert float(result.logs["cycle_a"]) == pytest.approx(0.1) and float(result.logs["cycle_b"]) == pytest.approx(0.1)
    assert float(result.logs["identity_b"]) == pytest.approx(0.1) and float(result.logs["identity_a"]) == 0
    assert float(result.loss) == pytest.approx(2 + 2 + 0.5)
    no_identity = CycleGAN(CycleGANConfig(lambda_identity=0, pool_size=0, exemplars=0), plugin.data)
    assert float(no_identity.generator_step(shifted, batch, _Ctx()).loss) == pytest.approx(4.0)
    # D: ½[(D(real)−1)² + D(fake)²] per domain; D ≡ 1 → ½·(0 + 1) each
    assert float(plugin.discriminator_step(identity, batch, _Ctx()).loss) == pytest.approx(1.0)


# -- through the harness -------------------------------------------------------------------------------

def test_trains_through_the_harness_with_finite_losses_and_checkpoints_the_pool(tmp_path, shared_data):
    trainer = make(tmp_path / "run", shared_data, steps=3)
    summary = trainer.fit()
    assert summary["steps"] == 3 and not trainer.counters
    losses = [v for record in trainer.run_dir.read_metrics() for v in record.get("losses", {}).values()]
    assert losses and all(math.isfinite(v) for v in losses)
    assert {"generators/cycle_a", "generators/identity_b", "discriminators/D_b"} <= set(
        trainer.run_dir.read_metrics()[0]["losses"])
    nets = trainer.nets
    assert int(nets.pool["a"].count) == int(nets.pool["b"].count) == 4 and int(nets.exemplars.count) == 8
    state = checkpoint.read(trainer.last_checkpoint, model="cyclegan")
    assert torch.equal(state["networks"]["pool"]["b.images"], nets.pool["b"].images)
    assert set(trainer.optimizers) == {"G_ab", "G_ba", "D_a", "D_b"}  # no optimizer for pool/exemplars
    cpu = torch.device("cpu")
    samples = trainer.plugin.sample(nets, NoiseSource(cpu, 0), 10)  # G_ab(stored real A exemplars)
    assert samples.shape == (10, 1, 28, 28) and samples.abs().max() <= 1
    assert torch.equal(samples, trainer.plugin.sample(nets, NoiseSource(cpu, 0), 10))
    assert not torch.equal(samples, trainer.plugin.sample(nets, NoiseSource(cpu, 1), 10))  # the seed picks which
    exemplars = nets.exemplars.a[:8].float() / 127.5 - 1
    expected = nets.G_ab(exemplars)
    assert all(any(torch.allclose(s, e, atol=1e-5) for e in expected) for s in samples)
    untrained = Networks({**nets, "exemplars": type(nets.exemplars)(8, (1, 28, 28))})
    assert trainer.plugin.sample(untrained, NoiseSource(cpu, 0), 3).shape == (3, 1, 28, 28)  # noise inputs
    grid = trainer.plugin.translation_grid(nets, n=3)
    assert grid.shape == (18, 1, 28, 28)

    # ganzoo translate: the run's checkpoint, a folder of images (any size; nested), PNGs out
    inputs = tmp_path / "digits"
    (inputs / "more").mkdir(parents=True)
    for i, digit in enumerate(trainer.source.reference(3, seed=0).real):
        Image.fromarray(((digit[0] + 1) * 127.5).round().byte().numpy()).save(inputs / f"{i}.png")
    Image.new("RGB", (40, 30), (255, 255, 255)).save(inputs / "more" / "big.jpg")
    out = translate(tmp_path / "run", input=inputs, direction="b2a", out=tmp_path / "translated")
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["0.png", "1.png", "2.png", "more/big.png"]
    assert Image.open(out / "0.png").size == (28, 28) and Image.open(out / "0.png").mode == "L"
    with pytest.raises(ValueError, match="a2b or b2a"):
        translate_folder(trainer.plugin, nets, inputs, tmp_path / "x", direction="sideways")


def test_resume_continues_bit_for_bit_including_the_pool(tmp_path, shared_data):
    # a crash after step 3: the run's directory with only the step-3 checkpoint (same total steps,
    # so the linear learning-rate decay, a function of the run's length, is the same schedule)
    whole = make(tmp_path / "whole", shared_data, steps=6, checkpoint_every=3)
    whole.fit()
    shutil.copytree(tmp_path / "whole", tmp_path / "crashed")
    (tmp_path / "crashed" / "checkpoints" / "step_0000006.pt").unlink()
    resumed = make(tmp_path / "crashed", shared_data, steps=6, resume=True, checkpoint_every=3)
    assert resumed.step == 3 and int(resumed.nets.pool["a"].count) == 4
    resumed.fit()
    for name in whole.nets:  # networks, the history pools and the exemplars
        for (key, p), q in zip(whole.nets[name].state_dict().items(), resumed.nets[name].state_dict().values()):
            assert torch.equal(p, q), f"{name}.{key} differs"


def test_trains_at_32_pixels_on_two_folders(tmp_path):
    _write_images(tmp_path / "a", 4, 32, (250, 250, 250))
    _write_images(tmp_path / "b", 4, 32, (5, 5, 5))
    trainer = make(tmp_path / "run", None, steps=2, dataset=f"unpaired:{tmp_path / 'a'},{tmp_path / 'b'}",
                   resolution=32)
    summary = trainer.fit()
    assert summary["steps"] == 2 and not trainer.counters
    assert trainer.plugin.sample(trainer.nets, NoiseSource(torch.device("cpu"), 0), 2).shape == (2, 3, 32, 32)


# -- label preservation ---------------------------------------------------------------------------------

def test_grayscale_is_bt601_luma():
    rgb = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    assert float(to_grayscale(rgb)) == pytest.approx(0.299 - 0.587 - 0.114)
    assert to_grayscale(torch.zeros(2, 1, 5, 5)).shape == (2, 1, 5, 5)


def test_classifier_reads_thick_digits_and_identity_translation_preserves_labels(shared_data, classifier):
    model, report = classifier
    source = open_dataset("mnist-thickness", DataRequest(seed=0, data_dir=shared_data))
    result = label_preservation(lambda images, direction: images, source, model, n=500, classifier_report=report)
    s = result.scores
    assert s["label_acc_real_b"] > 0.93 and s["label_acc_real_a"] > 0.97  # the B domain is still readable
    assert s["label_acc_a2b"] == s["label_acc_real_a"] and s["label_acc_b2a"] == s["label_acc_real_b"]
    assert s["fid_a2b"] == pytest.approx(s["fid_a_vs_b"]) and s["fid_a_vs_b"] > 50  # doing nothing is far from B

    def ideal(images, direction):  # the true A → B map: dilation
        if direction == "b2a":
            return images
        return thicken(((images + 1) * 127.5).round().byte()).float() / 127.5 - 1

    ideal_scores = label_preservation(ideal, source, model, n=500).scores
    assert ideal_scores["fid_a2b"] < 0.2 * s["fid_a_vs_b"]
    assert result.protocol["weights_sha256"] == report["weights_sha256"] and result.protocol["n"] == 500
    values = result.as_metric_values()
    assert values["label_acc_a2b"].protocol.extractor == "mnist-cnn"
    assert values["fid_b2a"].protocol.metric == "classifier_fid_b2a"
