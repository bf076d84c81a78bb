"""Held-out evaluation when a dataset has only one split (issue 12).

The split function itself runs on generated labels; the MNIST checks read the shared test split
(``../shared/data``) and are skipped with a reason when it is absent. A few seconds in all.
"""

from __future__ import annotations

import shutil
import warnings
from collections import Counter

import pytest
import torch

from ganzoo.harness.contract.config import TrainConfig
from ganzoo.harness.contract.errors import DataError
from ganzoo.harness.data.catalog import open_dataset
from ganzoo.harness.data.holdout import DEFAULT_HOLDOUT, HOLDOUT_SEED, class_shares, stratified_holdout
from ganzoo.harness.data.mnist_files import load_mnist
from ganzoo.harness.data.base import DataRequest
from ganzoo.harness.data.splits import DataWarning
from ganzoo.harness.metrics.classifier import RECIPE, mnist_split_plan, plan_digits, to_signed_unit

from ..conftest import SHARED_DATA


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GANZOO_DATA", raising=False)


def open_quietly(name: str, **request) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return open_dataset(name, DataRequest(**request))


def row_keys(images: torch.Tensor) -> set[bytes]:
    """Each image's bytes: identifies an image whatever order or batch it comes in."""
    return {bytes(row) for row in images.flatten(1).numpy()}


def as_uint8(batch_real: torch.Tensor) -> torch.Tensor:
    return ((batch_real + 1) * 127.5).round().to(torch.uint8)


# ---------------------------------------------------------------- the split function


@pytest.mark.parametrize("counts", [[1000] * 10, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
                                    [5, 50, 500, 7, 1], [3] * 10])
@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.03])
def test_split_is_stratified_disjoint_and_covering(counts, fraction):
    labels = torch.cat([torch.full((c,), k) for k, c in enumerate(counts)])
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]  # shuffled order
    n_held_out = max(1, round(fraction * len(labels)))
    split = stratified_holdout(labels, n_held_out)
    assert len(split.held_out) == n_held_out and len(split.train) == len(labels) - n_held_out
    assert set(split.train.tolist()).isdisjoint(split.held_out.tolist())
    assert sorted(split.train.tolist() + split.held_out.tolist()) == list(range(len(labels)))
    assert torch.equal(split.train, split.train.sort().values)  # sorted: the training part keeps file order
    held = Counter(labels[split.held_out].tolist())
    for k, c in enumerate(counts):
        assert abs(held[k] - n_held_out * c / len(labels)) < 1  # proportional within ±1
    assert split.describe() == {"train": len(labels) - n_held_out, "held_out": n_held_out, "stratified": True,
                                "seed": HOLDOUT_SEED}


def test_split_is_deterministic_and_independent_of_any_global_seed():
    labels = torch.arange(1000) % 7
    torch.manual_seed(123)
    first = stratified_holdout(labels, 150)
    torch.manual_seed(456)
    second = stratified_holdout(labels, 150)
    assert torch.equal(first.train, second.train) and torch.equal(first.held_out, second.held_out)
    other = stratified_holdout(labels, 150, seed=1)
    assert not torch.equal(first.held_out, other.held_out)  # the fixed seed, not an accident, decides


def test_class_shares_sum_and_unlabelled_data():
    assert sum(class_shares([980, 1135, 1032], 300)) == 300
    plain = stratified_holdout(None, 4, size=10)
    assert len(plain.held_out) == 4 and not plain.stratified


@pytest.mark.parametrize("n_held_out", [10, 11])
def test_holding_out_everything_is_refused(n_held_out):
    with pytest.raises(DataError, match="train.holdout"):
        stratified_holdout(torch.arange(10) % 2, n_held_out)


def test_config_and_request_default_to_2000():
    assert TrainConfig().holdout == DataRequest(seed=0).holdout == DEFAULT_HOLDOUT == RECIPE["test_split_holdout"]
    with pytest.raises(ValueError):
        TrainConfig(holdout=-1)


# ---------------------------------------------------------------- MNIST (shared test split)


@pytest.fixture
def mnist_test(shared_data) -> tuple[torch.Tensor, torch.Tensor]:
    return load_mnist(shared_data, "test")


def test_mnist_trains_on_the_training_part_and_scores_on_the_held_out_part(shared_data, mnist_test):
    images, labels = mnist_test
    with pytest.warns(DataWarning, match=r"8,000 of its digits.*other 2,000, held out") as record:
        source = open_dataset("mnist", DataRequest(seed=0, data_dir=shared_data, holdout=2000))
    split = stratified_holdout(labels, 2000)
    held_keys, train_keys = row_keys(images[split.held_out]), row_keys(images[split.train])
    assert not held_keys & train_keys  # MNIST's test digits are all distinct: bytes identify a digit
    seen = set()
    for _ in range(5):
        batch = source.next_shard(64, rank=0, world=2)  # sharded and plain draws share the same order
        seen |= row_keys(as_uint8(batch.real[:, 0]))
        seen |= row_keys(as_uint8(source.next_batch(300).real[:, 0]))
    assert seen <= train_keys and not seen & held_keys
    reference = source.reference(500, seed=3)
    ref_keys = row_keys(as_uint8(reference.real[:, 0]))
    assert len(ref_keys) == 500 and ref_keys <= held_keys
    whole = source.reference(5000, seed=3)  # more than is held out: all of it, never a duplicate
    assert len(whole.real) == 2000 and row_keys(as_uint8(whole.real[:, 0])) == held_keys
    assert sorted(whole.labels.tolist()) == sorted(labels[split.held_out].tolist())

    described = source.describe()
    assert described["split"] == "test" and described["size"] == len(source) == 8000
    assert described["holdout"] == {"train": 8000, "held_out": 2000, "stratified": True, "seed": 0}
    assert described["reference"] == "test (held-out 2000)"
    assert len(source.data_warnings) == 1 and source.data_warnings[0] == str(record[0].message)
    assert "held out" in source.data_warnings[0] and "TEST split" in source.data_warnings[0]


def test_mnist_resume_and_cache_stay_exact(shared_data):
    first = open_quietly("mnist", seed=4, data_dir=shared_data)
    first.next_batch(7000)  # most of an epoch of the 8,000; the next batches straddle epochs
    state = first.state_dict()
    expected = [first.next_batch(700) for _ in range(3)]
    second = open_quietly("mnist", seed=99, data_dir=shared_data)  # from the decoded cache this time
    assert second.describe()["cache_hit"] and state["size"] == 8000
    second.load_state_dict(state)
    for want in expected:
        assert torch.equal(second.next_batch(700).real, want.real)
    assert torch.equal(first.reference(64, seed=1).real, second.reference(64, seed=1).real)


def test_holdout_zero_trains_and_scores_on_the_same_images_and_says_so(shared_data):
    with pytest.warns(DataWarning, match="SAME images"):
        source = open_dataset("mnist", DataRequest(seed=0, data_dir=shared_data, holdout=0))
    assert len(source) == 10_000 and source.describe()["holdout"]["held_out"] == 0
    assert "training images" in source.describe()["reference"]
    assert "SAME images" in source.data_warnings[0]


def test_a_split_asked_for_by_name_is_used_whole_without_warning(shared_data, recwarn):
    source = open_dataset("mnist", DataRequest(seed=0, data_dir=shared_data, split="test"))
    assert len(source) == 10_000 and source.data_warnings == [] and "holdout" not in source.describe()
    assert not [w for w in recwarn if issubclass(w.category, DataWarning)]


def test_stacked_mnist_trains_on_training_digits_and_references_held_out_ones(shared_data, mnist_test):
    images, labels = mnist_test
    split = stratified_holdout(labels, 2000)
    held_keys, train_keys = row_keys(images[split.held_out]), row_keys(images[split.train])
    source = open_quietly("stacked-mnist", seed=0, data_dir=shared_data, size=2000)
    digits = row_keys(as_uint8(source.next_batch(500).real.flatten(0, 1)))
    assert digits <= train_keys
    reference = source.reference(400, seed=5)
    ref_digits = row_keys(as_uint8(reference.real.flatten(0, 1)))
    assert ref_digits <= held_keys
    assert torch.equal(reference.real, source.reference(400, seed=5).real)  # seeded, independent of training
    assert len(set(reference.labels.tolist())) > 300  # triples of held-out digits: many modes
    assert source.describe()["reference"] == "test (stacks of held-out 2000 digits)"
    assert source.data_warnings and "held out" in source.data_warnings[0]


def test_classifier_uses_the_same_split(shared_data, mnist_test):
    if "train" in mnist_split_plan(shared_data)["train"][0]:
        pytest.skip("the MNIST train split exists here: the classifier trains on it")
    images, labels = mnist_test
    split = stratified_holdout(labels, 2000)
    train_images, train_labels = plan_digits(shared_data, "train")
    eval_images, eval_labels = plan_digits(shared_data, "eval")
    assert torch.equal(train_images, to_signed_unit(images[split.train])) and len(train_labels) == 8000
    assert torch.equal(eval_images, to_signed_unit(images[split.held_out])) and torch.equal(
        eval_labels, labels[split.held_out])
    assert "2,000 held-out" in mnist_split_plan(shared_data)["description"]


# ---------------------------------------------------------------- CIFAR-10 (shared JPEG test copy)


def test_cifar10_folder_copy_holds_out_per_class(tmp_path):
    shared = SHARED_DATA / "cifar10-jpeg" / "test"
    if not shared.is_dir():
        pytest.skip(f"the shared CIFAR-10 JPEG copy is missing at {shared}")
    root = tmp_path / "data"
    for class_dir in sorted(shared.iterdir()):
        target = root / "cifar10-jpeg" / "test" / class_dir.name
        target.mkdir(parents=True)
        for image in sorted(class_dir.iterdir())[:4]:
            shutil.copy(image, target / image.name)
    with pytest.warns(DataWarning, match="30 of its images.*other 10"):
        source = open_dataset("cifar10", DataRequest(seed=0, data_dir=root, holdout=10))
    assert len(source) == 30 and Counter(source.labels.tolist()) == {c: 3 for c in range(10)}
    assert sorted(source.reference(10, seed=0).labels.tolist()) == list(range(10))  # one per class
    assert source.describe()["holdout"]["held_out"] == 10 and source.data_warnings
    with pytest.raises(DataError, match="cannot hold out 2000 of its 40"):
        open_quietly("cifar10", seed=0, data_dir=root)


def test_unlabelled_flat_folders_are_left_whole(tmp_path):
    """folder:PATH has no split: it is not held out (the user's folder is the training set)."""
    from PIL import Image

    for i in range(3):
        Image.new("RGB", (8, 8), (i, i, i)).save(tmp_path / f"{i}.png")
    source = open_quietly(f"folder:{tmp_path}", seed=0, resolution=8)
    assert len(source) == 3 and source.data_warnings == [] and "holdout" not in source.describe()


def test_data_warnings_default_empty_and_mixtures_have_none():
    source = open_dataset("ring", DataRequest(seed=0))
    assert source.data_warnings == []
