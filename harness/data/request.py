"""What a dataset opener is asked for: one request type for every kind of data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
