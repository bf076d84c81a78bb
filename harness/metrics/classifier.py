"""The MNIST CNN behind classifier-FID, KID, PRDC, class coverage, accuracy and Stacked-MNIST modes.

Why our own: without the network there are no Inception weights, and Stacked-MNIST mode counting needs a
digit classifier anyway. A metric is only comparable if its network is fixed, so, as torch-fidelity
ships one Inception, ganzoo ships one trained MNIST CNN as package data
(``ganzoo/harness/metrics/weights/mnist-cnn.safetensors``, sha256 :data:`SHIPPED_SHA256`): every
machine scores in the same feature space, and every protocol records that hash. It was trained once
with :data:`RECIPE` by ``ganzoo classifier train`` (the report beside the weights says on what and how
well). A classifier trained on another machine or data (``ganzoo classifier train``, cached under a
key that hashes the data files and the recipe) gives numbers that are *not* comparable with the
shipped network's; it is used only when passed explicitly as weights.

When only MNIST's test split exists, the classifier trains on the same 8,000-digit training part that
``mnist`` runs train on and reports its accuracy on the 2,000 held-out digits every metric scores against
(``harness.data.holdout``: stratified by class, fixed permutation).

Inputs are images in [-1, 1], shape (N, 1, 28, 28). Other sizes (e.g. the 32×32 that DCGAN-style
generators emit) are resized to 28×28 with antialiased bilinear interpolation before the network.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from importlib import resources

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from ..data.holdout import DEFAULT_HOLDOUT, HOLDOUT_SEED, stratified_holdout
from ..data.mnist_files import FILES, available_splits, load_mnist
from .protocol import file_sha256
from ..contract.errors import MetricError

INPUT_SIZE = 28
#: the shipped network: package data of ganzoo.harness.metrics, checked against this hash on every load
SHIPPED_WEIGHTS = "weights/mnist-cnn.safetensors"
SHIPPED_REPORT = "weights/mnist-cnn.json"
SHIPPED_SHA256 = "972bd38a0112b6e9f0b7a12c957a81dba085901f42010247c97e91b5ecd2bfd2"
NOT_COMPARABLE = ("numbers computed with this classifier are NOT comparable with ganzoo's published ones, which use "
                  f"the shipped mnist-cnn (sha256 {SHIPPED_SHA256[:12]}…); pass its weights explicitly "
                  "(--extractor-weights FILE) to score with it")

RECIPE: dict[str, Any] = {
    "version": 1,
    "architecture": "conv3x3(1,32)-bn-relu-pool | conv3x3(32,64)-bn-relu | conv3x3(64,64)-bn-relu-pool "
                    "| fc(3136,128)-relu [features] | dropout0.25-fc(128,10) [logits]",
    "input": "[-1,1], 1x28x28 (other sizes resized bilinear+antialias)",
    "steps": 700,
    "batch_size": 128,
    "optimizer": "AdamW(lr=onecycle max 3e-3, weight_decay=1e-4)",
    "max_lr": 3e-3,
    "weight_decay": 1e-4,
    "augment": "random affine per sample: rotate +-10 deg, scale 0.9-1.1, shift +-2 px",
    "test_split_holdout": DEFAULT_HOLDOUT,
    "test_split_holdout_method": f"stratified by class, fixed permutation seed {HOLDOUT_SEED} "
                                 "(harness.data.holdout: the split mnist runs use by default)",
}


class MnistCnn(nn.Module):
    """Three conv layers and a 128-d penultimate layer; ~99% on held-out MNIST digits."""

    feature_dim = 128
    num_classes = 10

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, self.feature_dim), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(self.feature_dim, self.num_classes))

    def features(self, images: Tensor) -> Tensor:
        """Penultimate activations (N, 128): the feature space for FID/KID/PRDC on digits."""
        return self.body(prepare_digits(images))

    def logits(self, images: Tensor) -> Tensor:
        """Class logits (N, 10)."""
        return self.head(self.features(images))

    def forward(self, images: Tensor) -> Tensor:
        return self.logits(images)


def prepare_digits(images: Tensor) -> Tensor:
    """Check (N, 1, H, W) and bring it to 28×28 float; images are expected in [-1, 1]."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise MetricError(f"the MNIST classifier takes (N, 1, H, W) images in [-1, 1], got shape {tuple(images.shape)}")
    images = images.float()
    if images.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        images = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False,
                               antialias=True)
    return images


def to_signed_unit(images_uint8: Tensor) -> Tensor:
    """uint8 (N, 28, 28) digits -> float (N, 1, 28, 28) in [-1, 1], the convention of every generator."""
    return (images_uint8.float().unsqueeze(1) / 127.5) - 1.0


def random_affine(images: Tensor, generator: torch.Generator) -> Tensor:
    """Small per-sample rotations, scalings and shifts: enough to reach >98.5% from 8,000 digits."""
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(10)
    scale = 0.9 + 0.2 * torch.rand(n, generator=generator)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 / (INPUT_SIZE / 2))  # ±2 px in [-1,1] units
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    background_zero = (images + 1) / 2  # grid_sample pads with 0, so warp in [0, 1] where the background is 0
    return F.grid_sample(background_zero, grid, mode="bilinear", padding_mode="zeros", align_corners=False) * 2 - 1


def mnist_split_plan(data_dir: Path) -> dict[str, Any]:
    """Which files train and which evaluate: ``train``→``test`` when the train split exists, else the test
    split's training part → its held-out part (each entry: (split, part), part None for the whole split)."""
    splits = available_splits(data_dir)
    if "train" in splits and "test" in splits:
        return {"train": ("train", None), "eval": ("test", None),
                "description": "trained on MNIST train (60,000), evaluated on MNIST test (10,000)"}
    if "test" in splits:
        holdout = RECIPE["test_split_holdout"]
        return {"train": ("test", "train"), "eval": ("test", "held_out"),
                "description": f"only MNIST test is available: trained on its {10_000 - holdout:,}-digit training "
                               f"part, evaluated on the {holdout:,} held-out digits (stratified by class, seed "
                               f"{HOLDOUT_SEED}; the split mnist runs use by default)"}
    raise MetricError(f"no MNIST split found in {data_dir / 'mnist'}: put the official IDX files there "
                      "(see harness.data.mnist_files) to train the classifier")


def _data_files(data_dir: Path, splits: set[str]) -> list[Path]:
    files = []
    for split in sorted(splits):
        for stem, _ in FILES[split]:
            folder = data_dir / "mnist"
            files.append(folder / f"{stem}.gz" if (folder / f"{stem}.gz").exists() else folder / stem)
    return files


def cache_key(data_dir: Path) -> str:
    """Hash of the data files' bytes and the recipe: a new key whenever either changes."""
    plan = mnist_split_plan(data_dir)
    files = _data_files(data_dir, {plan["train"][0], plan["eval"][0]})
    identity = {"data": {path.name: file_sha256(path) for path in files}, "recipe": RECIPE,
                "plan": [plan["train"], plan["eval"]]}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def shipped_weights_path() -> Path:
    """Where the shipped weights are installed (inside the package, editable or wheel alike)."""
    return Path(str(resources.files("ganzoo.harness.metrics").joinpath(SHIPPED_WEIGHTS)))


def shipped_mnist_classifier() -> tuple[MnistCnn, dict[str, Any]]:
    """The fixed classifier every MNIST metric uses by default, after checking its sha256."""
    path = shipped_weights_path()
    if not path.is_file():
        raise MetricError(f"the shipped MNIST classifier {path} is missing: reinstall ganzoo")
    digest = file_sha256(path)
    if digest != SHIPPED_SHA256:
        raise MetricError(f"the shipped MNIST classifier {path} has sha256 {digest}, expected {SHIPPED_SHA256}: the "
                          "file was changed; reinstall ganzoo")
    report_path = path.with_name(Path(SHIPPED_REPORT).name)
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    report.update(weights_sha256=digest, weights_path=str(path), shipped=True)
    return load_mnist_classifier(path), report


def load_mnist_classifier(weights_path: Path) -> MnistCnn:
    """An eval-mode, frozen ``MnistCnn`` from a safetensors file."""
    model = MnistCnn()
    model.load_state_dict(load_file(str(weights_path)))
    return model.eval().requires_grad_(False)


@torch.no_grad()
def accuracy(model: MnistCnn, images: Tensor, labels: Tensor, batch_size: int = 128) -> float:
    correct = sum(int((model.logits(images[i:i + batch_size]).argmax(1) == labels[i:i + batch_size]).sum())
                  for i in range(0, len(images), batch_size))
    return correct / len(images)


def plan_digits(data_dir: Path, role: str) -> tuple[Tensor, Tensor]:
    """The digits (in [-1, 1]) and labels the classifier trains on (``role`` "train") or is scored on ("eval")."""
    split, part = mnist_split_plan(data_dir)[role]
    images, labels = load_mnist(data_dir, split)
    if part is not None:
        index = getattr(stratified_holdout(labels, RECIPE["test_split_holdout"], seed=HOLDOUT_SEED,
                                           what=f"MNIST {split}"), part)
        images, labels = images[index], labels[index]
    return to_signed_unit(images), labels


def _train(train_images: Tensor, train_labels: Tensor, seed: int) -> MnistCnn:
    generator = torch.Generator().manual_seed(seed)
    # leave the caller's global RNG untouched, and train even when called under torch.no_grad()
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        model = MnistCnn()
        optimizer = torch.optim.AdamW(model.parameters(), lr=RECIPE["max_lr"], weight_decay=RECIPE["weight_decay"])
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=RECIPE["max_lr"],
                                                       total_steps=RECIPE["steps"])
        model.train()
        order = torch.randperm(len(train_images), generator=generator)
        cursor = 0
        for _ in range(RECIPE["steps"]):
            if cursor + RECIPE["batch_size"] > len(order):
                order, cursor = torch.randperm(len(train_images), generator=generator), 0
            index = order[cursor:cursor + RECIPE["batch_size"]]
            cursor += RECIPE["batch_size"]
            batch = random_affine(train_images[index], generator)
            loss = F.cross_entropy(model(batch), train_labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval().requires_grad_(False)


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file and rename, so parallel test workers never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def train_mnist_classifier(data_dir: Path, cache_dir: Path, *, seed: int = 0,
                           force: bool = False) -> tuple[MnistCnn, dict[str, Any]]:
    """The cached classifier for these data files and this recipe, training it (~1-2 min on 2 cores) on a miss.

    Returns an eval-mode frozen model and a report: held-out accuracy, split description, cache key,
    weights sha256, training seconds, recipe, and whether it came from the cache.
    """
    key = cache_key(data_dir)
    stem = f"mnist-cnn-{key}-seed{seed}"
    weights_path = Path(cache_dir) / "mnist-cnn" / f"{stem}.safetensors"
    report_path = weights_path.with_suffix(".json")
    if not force and weights_path.exists() and report_path.exists():
        report = json.loads(report_path.read_text())
        if report.get("weights_sha256") == file_sha256(weights_path):
            return load_mnist_classifier(weights_path), {**report, "from_cache": True}

    plan = mnist_split_plan(data_dir)
    train_images, train_labels = plan_digits(data_dir, "train")
    eval_images, eval_labels = plan_digits(data_dir, "eval")
    started = time.perf_counter()
    model = _train(train_images, train_labels, seed)
    seconds = time.perf_counter() - started
    _atomic_write(weights_path, lambda tmp: save_file(model.state_dict(), str(tmp), metadata={"cache_key": key}))
    report = {
        "extractor": "mnist-cnn",
        "heldout_accuracy": accuracy(model, eval_images, eval_labels),
        "n_train": len(train_images),
        "n_heldout": len(eval_images),
        "split": plan["description"],
        "cache_key": key,
        "seed": seed,
        "weights_path": str(weights_path),
        "weights_sha256": file_sha256(weights_path),
        "train_seconds": round(seconds, 1),
        "torch_threads": torch.get_num_threads(),
        "recipe": RECIPE,
    }
    _atomic_write(report_path, lambda tmp: tmp.write_text(json.dumps(report, indent=2)))
    return model, {**report, "from_cache": False}
