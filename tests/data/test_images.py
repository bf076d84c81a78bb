"""Image datasets: MNIST, stacked MNIST, CIFAR-10 (batches, archive, class folders), folder:PATH,
the decoded cache and exact resume of the batch order.

Real data comes from ``../shared/data`` when present (skipped with a reason otherwise); every
other case runs on small files generated here, so the whole file takes a few seconds.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.harness.data import decoded_cache as cache_mod
from ganzoo.harness.data import cifar10
from ganzoo.harness.data import folder
from ganzoo.harness.contract.errors import DataError
from ganzoo.harness.data.decoded_cache import CacheWarning
from ganzoo.harness.data.base import DataRequest
from ganzoo.harness.data.catalog import dataset_kind, open_dataset
from ganzoo.harness.data.holdout import stratified_holdout
from ganzoo.harness.data.storage import cache_root, data_root, download, md5
from ganzoo.harness.data.mnist_files import load_mnist
from ganzoo.harness.data.splits import DataWarning
from ganzoo.harness.data.stacked_mnist import stack_digits
from ganzoo.harness.data.tensor_source import ImageTensorSource
from ganzoo.harness.contract.model_spec import DataKind

from ..conftest import SHARED_DATA

SHARED = SHARED_DATA  # the shared data folder beside the checkout (tests/conftest.py)
needs_shared_mnist = pytest.mark.skipif(not (SHARED / "mnist").is_dir(),
                                        reason=f"shared MNIST test split not found at {SHARED / 'mnist'}")
needs_shared_cifar = pytest.mark.skipif(not (SHARED / "cifar10-jpeg" / "test").is_dir(),
                                        reason=f"shared CIFAR-10 JPEG copy not found at {SHARED / 'cifar10-jpeg'}")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch) -> Path:
    """Each test gets its own cache and no inherited data location."""
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GANZOO_DATA", raising=False)
    return tmp_path / "cache"


# ---------------------------------------------------------------- generated data


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist(tmp_path) -> Path:
    """A tiny *train* split, uncompressed (md5 is only checked for the official .gz files).
    Digit d is an image filled with 10 + 20·d, so a channel's value reveals its digit."""
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    labels = np.arange(100) % 10
    images = np.broadcast_to((10 + 20 * labels)[:, None, None], (100, 28, 28))
    write_idx(root / "mnist" / "train-images-idx3-ubyte", images)
    write_idx(root / "mnist" / "train-labels-idx1-ubyte", labels)
    return root


def fake_batch(n: int, offset: int, bytes_keys: bool = False) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(offset)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = (np.arange(n) + offset) % 10
    entry = {"batch_label": "fake", "data": data, "labels": labels.tolist(), "filenames": [f"{i}.png" for i in range(n)]}
    blob = pickle.dumps(entry, protocol=2)
    if bytes_keys:  # like the official Python-2 pickles: bytes keys, numpy 1.x module path
        blob = pickle.dumps({k.encode(): v for k, v in entry.items()}, protocol=2)
        blob = blob.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
        assert b"numpy.core.multiarray\n" in blob
    return blob, data.reshape(n, 3, 32, 32), labels


@pytest.fixture
def fake_cifar_batches(tmp_path, monkeypatch) -> tuple[Path, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Official layout ``cifar10/cifar-10-batches-py/`` with 4 images per batch; md5 table patched."""
    root = tmp_path / "data"
    folder_ = root / "cifar10" / cifar10.BATCH_DIR
    folder_.mkdir(parents=True)
    truth, sums = {}, {}
    for offset, name in enumerate(cifar10.BATCHES["train"] + cifar10.BATCHES["test"]):
        blob, images, labels = fake_batch(4, offset, bytes_keys=(offset == 0))
        (folder_ / name).write_bytes(blob)
        truth[name], sums[name] = (images, labels), md5(folder_ / name)
    monkeypatch.setattr(cifar10, "BATCH_MD5", sums)
    return root, truth


def write_png(path: Path, size: tuple[int, int], color, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


# ---------------------------------------------------------------- locations and names


def test_locations_follow_flag_then_env_then_user_cache(tmp_path, monkeypatch):
    assert data_root(tmp_path / "flag").path == (tmp_path / "flag").resolve()
    assert data_root(None).path == (tmp_path / "cache" / "data").resolve()
    monkeypatch.setenv("GANZOO_DATA", str(tmp_path / "env"))
    assert data_root(None).origin == "GANZOO_DATA" and data_root(None).path == (tmp_path / "env").resolve()
    assert data_root(tmp_path / "flag").origin == "--data-dir"
    monkeypatch.delenv("GANZOO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "ganzoo"


def test_unknown_name_suggests_the_close_one():
    with pytest.raises(DataError, match="Did you mean mnist"):
        open_dataset("mnsit", DataRequest(seed=0))


def test_image_datasets_are_registered():
    for name in ("mnist", "stacked-mnist", "cifar10", "folder:/anything"):
        assert dataset_kind(name) == DataKind.images


# ---------------------------------------------------------------- MNIST


@needs_shared_mnist
def test_mnist_from_shared_test_split_warns_and_records_split():
    with pytest.warns(DataWarning, match="TEST split"):
        source = open_dataset("mnist", DataRequest(seed=0, data_dir=SHARED))
    assert source.info.shape == (1, 28, 28) and source.info.num_classes == 10
    assert source.info.value_range == (-1.0, 1.0) and len(source) == 8_000  # 2,000 held out for evaluation
    batch = source.next_batch(256)
    assert batch.real.dtype == torch.float32 and batch.real.shape == (256, 1, 28, 28)
    assert batch.real.min() == -1.0 and batch.real.max() == 1.0
    assert batch.labels.dtype == torch.int64 and set(batch.labels.tolist()) == set(range(10))
    _, labels = load_mnist(SHARED, "test")
    train_part = stratified_holdout(labels, 2000).train
    assert torch.equal(source.labels, labels[train_part])  # file order; only the batches are shuffled
    info = source.describe()
    assert info["split"] == "test" and info["resolution"] == 28 and info["cache_key"]
    assert any("t10k-images" in f for f in info["files"])


@needs_shared_mnist
def test_mnist_resized_once_via_env_location(monkeypatch):
    monkeypatch.setenv("GANZOO_DATA", str(SHARED))
    with pytest.warns(DataWarning):
        source = open_dataset("mnist", DataRequest(seed=0, resolution=32, split="auto"))
    assert source.info.shape == (1, 32, 32) and source.images.dtype == torch.uint8
    assert source.describe()["data_dir_from"] == "GANZOO_DATA"


def test_mnist_train_split_is_used_without_warning(fake_mnist, recwarn):
    source = open_dataset("mnist", DataRequest(seed=1, data_dir=fake_mnist))
    assert not [w for w in recwarn if issubclass(w.category, DataWarning)]
    assert source.describe()["split"] == "train" and len(source) == 100


def test_mnist_missing_names_path_and_fixes(tmp_path):
    with pytest.raises(DataError) as error:
        open_dataset("mnist", DataRequest(seed=0, data_dir=tmp_path / "empty"))
    message = str(error.value)
    for part in ("'mnist'", str(tmp_path / "empty" / "mnist"), "t10k-images-idx3-ubyte", "--download", "GANZOO_DATA"):
        assert part in message


def test_mnist_bad_split_and_resolution(fake_mnist):
    with pytest.raises(DataError, match="not 'validation'"):
        open_dataset("mnist", DataRequest(seed=0, data_dir=fake_mnist, split="validation"))
    with pytest.raises(DataError, match="resolution"):
        open_dataset("mnist", DataRequest(seed=0, data_dir=fake_mnist, resolution=0))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        open_dataset("mnist", DataRequest(seed=0, data_dir=fake_mnist, split="test"))


# ---------------------------------------------------------------- stacked MNIST


def test_stacked_mnist_labels_are_the_channels_digits(fake_mnist):
    source = open_dataset("stacked-mnist", DataRequest(seed=3, data_dir=fake_mnist, size=500))
    assert source.info.shape == (3, 28, 28) and source.info.num_classes == 1000 and len(source) == 500
    digits = (source.images[:, :, 0, 0].long() - 10) // 20  # (N, 3): the digit in R, G, B
    assert torch.equal(source.labels, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])
    assert len(set(source.labels.tolist())) > 300  # triples drawn uniformly, not one mode


def test_stacked_mnist_is_deterministic_per_seed(fake_mnist):
    def open_(seed):
        return open_dataset("stacked-mnist", DataRequest(seed=seed, data_dir=fake_mnist, size=200))

    a, b, c = open_(7), open_(7), open_(8)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.labels, c.labels)
    assert torch.equal(a.next_batch(32).real, b.next_batch(32).real)


@needs_shared_mnist
def test_stacked_mnist_from_shared_digits_matches_their_labels():
    images, labels = load_mnist(SHARED, "test")
    with pytest.warns(DataWarning):
        source = open_dataset("stacked-mnist", DataRequest(seed=0, data_dir=SHARED, size=1000))
    train_part = stratified_holdout(labels, 2000).train  # training stacks use only the training part
    images, labels = images[train_part], labels[train_part]
    expected, expected_labels, index = stack_digits(images.unsqueeze(1), labels, 1000, 0)
    assert torch.equal(source.images, expected) and torch.equal(source.labels, expected_labels)
    assert torch.equal(source.images[:, 1], images[index[:, 1]])
    assert torch.equal(source.labels, 100 * labels[index[:, 0]] + 10 * labels[index[:, 1]] + labels[index[:, 2]])


# ---------------------------------------------------------------- order, resume, reference


def small_source(seed: int = 0, n: int = 10) -> ImageTensorSource:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 3, 2, 2).contiguous()
    return ImageTensorSource("toy", images, torch.arange(n), seed, num_classes=n)


def test_each_epoch_is_a_permutation():
    source = small_source()
    seen = torch.cat([source.next_batch(5).labels for _ in range(4)])
    assert sorted(seen[:10].tolist()) == list(range(10)) and sorted(seen[10:].tolist()) == list(range(10))
    assert source.epoch == 1


def test_restored_source_yields_the_same_next_batches(tmp_path):
    original = small_source(seed=5)
    for _ in range(3):
        original.next_batch(4)  # ends mid-epoch; the next batches straddle epochs
    path = tmp_path / "state.pt"
    torch.save(original.state_dict(), path)
    expected = [original.next_batch(4) for _ in range(6)]
    restored = small_source(seed=123)  # a different seed: everything must come from the state
    restored.load_state_dict(torch.load(path, weights_only=True))
    for want in expected:
        got = restored.next_batch(4)
        assert torch.equal(got.real, want.real) and torch.equal(got.labels, want.labels)


def test_resume_with_other_data_is_refused():
    with pytest.raises(DataError, match="same data files"):
        small_source(n=10).load_state_dict(small_source(n=12).state_dict())


def test_reference_is_independent_of_training_order():
    a, b = small_source(seed=1), small_source(seed=1)
    first = a.reference(6, seed=9)
    a.next_batch(7)
    assert torch.equal(a.reference(6, seed=9).real, first.real)
    assert len(set(first.labels.tolist())) == 6  # without replacement
    b.reference(3, seed=2)  # does not touch the training generator
    assert torch.equal(a.next_batch(3).real, (b.next_batch(7), b.next_batch(3))[1].real)


# ---------------------------------------------------------------- folder:PATH and the cache


@pytest.fixture
def class_folder(tmp_path) -> Path:
    root = tmp_path / "pics"
    write_png(root / "zebra" / "a.png", (40, 30), (255, 0, 0))
    write_png(root / "zebra" / "nested" / "b.PNG", (20, 50), (255, 0, 0))
    write_png(root / "apple" / "c.png", (16, 16), 128, mode="L")  # grayscale becomes RGB
    (root / "apple" / "notes.txt").write_text("not an image")
    return root


def test_folder_with_class_subfolders(class_folder):
    source = open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    assert source.info.shape == (3, 8, 8) and source.info.num_classes == 2 and len(source) == 3
    assert source.classes == ["apple", "zebra"]
    assert source.labels.tolist() == [0, 1, 1]
    assert torch.all(source.images[0] == 128)
    assert torch.all(source.images[1:, 0] == 255) and torch.all(source.images[1:, 1:] == 0)
    assert source.describe()["path"] == str(class_folder.resolve())


def test_flat_folder_has_no_labels_and_defaults_to_64(tmp_path):
    for i in range(3):
        write_png(tmp_path / "flat" / f"{i}.jpg", (70 + i, 90), (0, 0, 255))
    source = open_dataset(f"folder:{tmp_path / 'flat'}", DataRequest(seed=0))
    assert source.info.shape == (3, 64, 64) and source.info.num_classes is None
    assert source.next_batch(2).labels is None


def test_folder_errors_name_the_path_and_extensions(tmp_path):
    with pytest.raises(DataError, match="does not exist") as error:
        open_dataset(f"folder:{tmp_path / 'nope'}", DataRequest(seed=0))
    assert str(tmp_path / "nope") in str(error.value)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(DataError, match=r"no images found .*\.png") as error:
        open_dataset(f"folder:{tmp_path / 'empty'}", DataRequest(seed=0))
    assert str(tmp_path / "empty") in str(error.value)


def test_second_open_hits_the_cache(class_folder, monkeypatch):
    first = open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    assert first.describe()["cache_hit"] is False

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again despite a cache entry")

    monkeypatch.setattr(folder, "decode", no_decoding)
    second = open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    assert second.describe()["cache_hit"] is True
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    assert second.classes == first.classes
    with pytest.raises(AssertionError):  # another resolution is another entry
        open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=16))


def test_changed_files_invalidate_the_cache(class_folder):
    first = open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    write_png(class_folder / "apple" / "d.png", (16, 16), 0, mode="L")
    second = open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    assert second.describe()["cache_key"] != first.describe()["cache_key"] and len(second) == 4


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_cache_is_rebuilt_with_a_warning(class_folder, damage):
    first = open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    path = Path(first.describe()["cache_file"])
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2] if damage == "truncate" else os.urandom(len(blob)))
    with pytest.warns(CacheWarning, match="unreadable"):
        second = open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    assert second.describe()["cache_hit"] is False and torch.equal(first.images, second.images)
    assert open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8)).describe()["cache_hit"]


def test_cache_writes_leave_no_temporary_files(class_folder, private_cache):
    open_dataset(f"folder:{class_folder}", DataRequest(seed=0, resolution=8))
    names = os.listdir(private_cache / "decoded")
    assert len(names) == 1 and names[0].endswith(".safetensors")


# ---------------------------------------------------------------- CIFAR-10


@pytest.fixture
def cifar_folder_copy(tmp_path) -> Path:
    """Three JPEGs per class from the shared copy, in ``<data>/cifar10-jpeg/test/<class>/``."""
    root = tmp_path / "data"
    for class_dir in sorted((SHARED / "cifar10-jpeg" / "test").iterdir()):
        target = root / "cifar10-jpeg" / "test" / class_dir.name
        target.mkdir(parents=True)
        for image in sorted(class_dir.iterdir())[:3]:
            shutil.copy(image, target / image.name)
    return root


@needs_shared_cifar
def test_cifar10_from_class_folders(cifar_folder_copy):
    with pytest.warns(DataWarning, match="TEST split"):
        source = open_dataset("cifar10", DataRequest(seed=0, data_dir=cifar_folder_copy, holdout=0))
    assert source.info.shape == (3, 32, 32) and source.info.num_classes == 10 and len(source) == 30
    assert source.classes == cifar10.CLASSES
    assert source.labels.tolist() == [c for c in range(10) for _ in range(3)]
    first = cifar_folder_copy / "cifar10-jpeg" / "test" / "airplane" / sorted(
        os.listdir(cifar_folder_copy / "cifar10-jpeg" / "test" / "airplane"))[0]
    assert torch.equal(source.images[0], torch.from_numpy(np.array(Image.open(first).convert("RGB"))).permute(2, 0, 1))
    assert source.describe()["split"] == "test" and source.describe()["source"] == "class folders"


def test_cifar10_from_python_batches(fake_cifar_batches, recwarn):
    root, truth = fake_cifar_batches
    source = open_dataset("cifar10", DataRequest(seed=0, data_dir=root))
    assert not [w for w in recwarn if issubclass(w.category, DataWarning)]
    assert len(source) == 20 and source.info.shape == (3, 32, 32)
    assert json.loads(json.dumps(source.describe()))["source"] == "official python batches"
    want = np.concatenate([truth[n][0] for n in cifar10.BATCHES["train"]])
    assert torch.equal(source.images, torch.from_numpy(want))
    assert source.labels.tolist() == np.concatenate([truth[n][1] for n in cifar10.BATCHES["train"]]).tolist()
    test = open_dataset("cifar10", DataRequest(seed=0, data_dir=root, split="test", resolution=16))
    assert len(test) == 4 and test.info.shape == (3, 16, 16) and test.describe()["split"] == "test"


def test_cifar10_batches_with_wrong_md5_are_refused(fake_cifar_batches, monkeypatch):
    root, _ = fake_cifar_batches
    monkeypatch.setattr(cifar10, "BATCH_MD5", {**cifar10.BATCH_MD5, "data_batch_3": "0" * 32})
    with pytest.raises(DataError, match="data_batch_3 has md5"):
        open_dataset("cifar10", DataRequest(seed=0, data_dir=root))


def test_cifar10_batch_that_would_run_code_is_refused():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(DataError, match="refusing to load"):
        cifar10.read_batch(pickle.dumps({"data": Evil(), "labels": []}), "evil_batch")


def make_archive(tmp_path: Path, n: int = 2) -> tuple[Path, np.ndarray]:
    path = tmp_path / "upstream" / cifar10.ARCHIVE
    path.parent.mkdir(parents=True)
    test_images = None
    with tarfile.open(path, "w:gz") as archive:
        for offset, name in enumerate(cifar10.BATCHES["train"] + cifar10.BATCHES["test"]):
            blob, images, _ = fake_batch(n, offset)
            test_images = images
            info = tarfile.TarInfo(f"{cifar10.BATCH_DIR}/{name}")
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
    return path, test_images


def test_cifar10_download_reads_the_archive_in_place(tmp_path, monkeypatch):
    archive, test_images = make_archive(tmp_path)
    monkeypatch.setattr(cifar10, "URL", archive.as_uri())  # file:// — no network needed
    monkeypatch.setattr(cifar10, "ARCHIVE_MD5", md5(archive))
    root = tmp_path / "data"
    with pytest.raises(DataError, match="--download"):
        open_dataset("cifar10", DataRequest(seed=0, data_dir=root))
    source = open_dataset("cifar10", DataRequest(seed=0, data_dir=root, download=True))
    assert len(source) == 10 and (root / "cifar10" / cifar10.ARCHIVE).is_file()
    test = open_dataset("cifar10", DataRequest(seed=0, data_dir=root, split="test"))
    assert torch.equal(test.images, torch.from_numpy(test_images))


def test_download_checks_md5_and_leaves_nothing_behind(tmp_path):
    source = tmp_path / "blob.bin"
    source.write_bytes(b"payload")
    target = tmp_path / "out" / "blob.bin"
    with pytest.raises(DataError, match="md5"):
        download([source.as_uri()], target, "0" * 32, dataset="x")
    assert not target.exists() and os.listdir(target.parent) == []
    assert download([source.as_uri()], target, md5(source), dataset="x").read_bytes() == b"payload"


def test_cifar10_missing_names_every_place_looked(tmp_path):
    with pytest.raises(DataError) as error:
        open_dataset("cifar10", DataRequest(seed=0, data_dir=tmp_path / "empty"))
    message = str(error.value)
    for part in ("'cifar10'", str(tmp_path / "empty" / "cifar10" / cifar10.BATCH_DIR), cifar10.ARCHIVE,
                 str(tmp_path / "empty" / "cifar10-jpeg" / "train"), "--download", "GANZOO_DATA"):
        assert part in message


def test_cache_key_covers_the_transform_version(monkeypatch):
    key = cache_mod.cache_key({"a": 1})
    monkeypatch.setattr(cache_mod, "TRANSFORM_VERSION", cache_mod.TRANSFORM_VERSION + 1)
    assert cache_mod.cache_key({"a": 1}) != key
