"""The data-source contract: what the trainer asks of any dataset, and what an opener is asked for
(:class:`DataRequest`, one request type for every kind of data).

A source hands out batches from its own seeded ``torch.Generator``, so the order of the data
is part of the run's state: ``state_dict``/``load_state_dict`` capture it for exact resume.
Batches are returned on CPU; the trainer moves them. ``data_warnings`` holds the text of every
``DataWarning`` raised while the source was opened (``harness.data.catalog`` fills it), so a run
can record them in summary.json as well as print them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..contract.gan_plugin import Batch
from ..contract.model_spec import DataInfo


@dataclass(frozen=True)
class DataRequest:
    """Everything an opener may need; image openers use the fields points ignore."""

    seed: int
    data_dir: Path | None = None
    resolution: int | None = None
    download: bool = False
    split: str = "auto"  # "train", "test", or "auto": train if present, else test with a warning
    size: int | None = None  # samples to synthesise (stacked-mnist); None = the dataset's default
    # images held out for evaluation, stratified by class, when ``auto`` falls back to the only split
    # there is (e.g. MNIST's test split): training batches never contain them, ``reference`` only them.
    # 0: train and score on the same images (the DataWarning says so). See harness.data.holdout.
    holdout: int = 2000


class DataSource(ABC):
    """A dataset the trainer can draw batches from."""

    info: DataInfo
    data_warnings: list[str]  # DataWarning texts raised while opening this source (empty: none)

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.data_warnings = []

    @abstractmethod
    def next_batch(self, batch_size: int) -> Batch:
        """The next training batch (CPU tensors)."""

    def next_shard(self, batch_size: int, rank: int, world: int) -> Batch:
        """Rank ``rank``'s slice of the next *global* batch of ``batch_size * world`` samples.

        Every rank draws the same global order from an identically seeded generator and keeps
        its own rows, so ``world`` processes see exactly the samples one process would with
        the global batch, and the data-order state is the same on every rank. Sources override
        this to avoid materialising the other ranks' rows.
        """
        batch = self.next_batch(batch_size * world)
        if world == 1:
            return batch
        rows = slice(rank * batch_size, (rank + 1) * batch_size)
        return Batch(*(None if t is None else t[rows] for t in (batch.real, batch.labels, batch.real_b)))

    @abstractmethod
    def reference(self, n: int, seed: int) -> Batch:
        """``n`` real samples for evaluation, independent of the training order."""

    def place(self, device: torch.device) -> None:
        """Move in-memory training data to ``device`` once, when that is cheap (image tensors); default: stay."""

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])

    def describe(self) -> dict[str, Any]:
        """Provenance written to ``config.json``/``summary.json``."""
        return {"name": self.info.name, "kind": self.info.kind.value, "shape": list(self.info.shape)}


def sample_without_replacement(size: int, n: int, generator: torch.Generator) -> Tensor:
    """Indices of ``n`` items drawn from ``range(size)`` (with replacement only if n > size)."""
    if n <= size:
        return torch.randperm(size, generator=generator)[:n]
    return torch.randint(size, (n,), generator=generator)
