"""An in-memory image dataset served in a resumable, seeded order.

Every image dataset ends up here: decoded once into a uint8 tensor (N, C, H, W) (4x smaller
than float, so CIFAR-10 is 150 MB, not 600), converted to float in [-1, 1] one batch at a time.
The order is a fresh random permutation per epoch drawn from the source's own generator.
``state_dict`` holds that generator's state, the current permutation and the position in
it, so a source restored from a checkpoint yields exactly the batches the original would have.
With ``held_out`` images (``harness.data.holdout``) the source trains on ``images`` only and
``reference`` draws only from the held-out ones.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..contract.gan_plugin import Batch
from ..contract.model_spec import DataInfo, DataKind
from .base import DataSource, sample_without_replacement
from ..contract.errors import DataError


def to_unit_range(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images.to(torch.float32).div_(127.5).sub_(1.0)


class ImageTensorSource(DataSource):
    """Batches of a uint8 image tensor, with optional int64 labels, in per-epoch random order."""

    def __init__(self, name: str, images: Tensor, labels: Tensor | None, seed: int, *,
                 num_classes: int | None = None, classes: list[str] | None = None,
                 provenance: dict[str, Any] | None = None,
                 held_out: tuple[Tensor, Tensor | None] | None = None) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4 or len(images) == 0:
            raise DataError(f"dataset {name!r}: expected a non-empty uint8 tensor (N, C, H, W), "
                            f"got {images.dtype} {tuple(images.shape)}")
        if labels is not None and labels.shape != images.shape[:1]:
            raise DataError(f"dataset {name!r}: {len(labels)} labels for {len(images)} images")
        super().__init__(seed)
        self.images = images
        self.labels = None if labels is None else labels.to(torch.int64)
        self.classes = classes
        if num_classes is None and classes is not None:
            num_classes = len(classes)
        self.info = DataInfo(name=name, kind=DataKind.images, shape=tuple(images.shape[1:]),
                             num_classes=num_classes if self.labels is not None else None,
                             value_range=(-1.0, 1.0))
        self.provenance = dict(provenance or {})
        self.held_out = held_out  # (images, labels) that ``reference`` draws from instead of the training images
        self._permutation = torch.randperm(len(images), generator=self.generator)
        self._position = 0
        self._epoch = 0

    def __len__(self) -> int:
        return len(self.images)

    @property
    def epoch(self) -> int:
        """Completed passes over the data."""
        return self._epoch

    def next_batch(self, batch_size: int) -> Batch:
        return self._gather(self._next_indices(batch_size))

    def next_shard(self, batch_size: int, rank: int, world: int) -> Batch:
        index = self._next_indices(batch_size * world)  # the global order, identical on every rank
        return self._gather(index[rank * batch_size : (rank + 1) * batch_size])

    def _next_indices(self, batch_size: int) -> Tensor:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        parts, needed = [], batch_size
        while needed:
            if self._position == len(self._permutation):  # epoch done: new order, batch may straddle
                self._permutation = torch.randperm(len(self.images), generator=self.generator)
                self._position = 0
                self._epoch += 1
            part = self._permutation[self._position : self._position + needed]
            parts.append(part)
            self._position += len(part)
            needed -= len(part)
        return torch.cat(parts)

    def reference(self, n: int, seed: int) -> Batch:
        """``n`` images for evaluation: from the held-out part when there is one (all of it, in a seeded
        order, when ``n`` exceeds it: duplicates would distort nearest-neighbour metrics), else the images."""
        generator = torch.Generator().manual_seed(seed)
        if self.held_out is not None:
            images, labels = self.held_out
            index = torch.randperm(len(images), generator=generator)[:n]
            return Batch(real=to_unit_range(images[index]), labels=None if labels is None else labels[index])
        batch = self._gather(sample_without_replacement(len(self.images), n, generator))
        return Batch(*(None if t is None else t.cpu() for t in (batch.real, batch.labels)))  # as before place()

    def place(self, device: torch.device) -> None:
        """Keep the uint8 training images (and labels) on the training device: a batch is then one index
        gather and one conversion there, with no host-to-device copy per step. The order (permutation and
        its generator) stays on the CPU, so data order and resume do not depend on the device."""
        if device.type != "cpu":
            self.images = self.images.to(device)
            self.labels = None if self.labels is None else self.labels.to(device)

    def _gather(self, index: Tensor) -> Batch:
        index = index.to(self.images.device, non_blocking=True)
        labels = None if self.labels is None else self.labels[index]
        return Batch(real=to_unit_range(self.images[index]), labels=labels)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "permutation": self._permutation.clone(),
                "position": self._position, "epoch": self._epoch, "size": len(self.images)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = {"generator", "permutation", "position", "epoch", "size"} - set(state)
        if missing:
            raise DataError(f"dataset {self.info.name!r}: data-order state lacks {sorted(missing)}; "
                            "the checkpoint was not written by an image source")
        if state["size"] != len(self.images) or len(state["permutation"]) != len(self.images):
            raise DataError(f"dataset {self.info.name!r}: the checkpoint's data order is for {state['size']} "
                            f"samples but this dataset has {len(self.images)}; resume with the same data files, "
                            "split, size and train.holdout")
        super().load_state_dict(state)
        self._permutation = state["permutation"].to(torch.int64).clone()
        self._position = int(state["position"])
        self._epoch = int(state["epoch"])

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "size": len(self.images), "num_classes": self.info.num_classes,
                "value_range": list(self.info.value_range or ()), **self.provenance}
