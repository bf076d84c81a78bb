"""Helpers shared by the metrics tests; each test file wraps them in its own fixtures (conftest.py is the lead's).

Runs and metrics use the shipped MNIST classifier (``shipped_classifier``: package data, nothing to
train). The tests of the training recipe itself (``cached_mnist_classifier``) train one once per pytest session (about 1.5-2 min on one CPU thread) into the session's
temporary cache, like every other test cache (tests never write into the user's cache). To reuse it
across sessions, point ``GANZOO_TEST_CACHE`` at a persistent folder (CI can restore that folder
between runs): the classifier is then loaded in a second whenever data and recipe are unchanged.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
import torch

from ganzoo.harness.metrics.classifier import train_mnist_classifier

# ``../shared/data`` beside the checkout, or beside a folder above it (a git worktree one level deeper)
SHARED_DATA = next((folder / "shared" / "data" for folder in Path(__file__).resolve().parents[1].parents
                    if (folder / "shared" / "data").is_dir()), Path(__file__).resolve().parents[2] / "shared" / "data")


def require_mnist() -> Path:
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"MNIST files not found in {SHARED_DATA / 'mnist'} (the shared/ folder beside the checkout)")
    return SHARED_DATA


@functools.cache
def _classifier_in(cache_dir: Path):
    return train_mnist_classifier(require_mnist(), cache_dir)


def shipped_classifier():
    """(model, report) of the classifier every MNIST metric uses: ganzoo's shipped, fixed network."""
    from ganzoo.harness.metrics.classifier import shipped_mnist_classifier

    return shipped_mnist_classifier()


def cached_mnist_classifier(tmp_path_factory: pytest.TempPathFactory):
    """(model, report) of the harness classifier: once per session, or from ``$GANZOO_TEST_CACHE``."""
    configured = os.environ.get("GANZOO_TEST_CACHE")
    return _classifier_in(Path(configured) if configured else tmp_path_factory.getbasetemp() / "ganzoo-cache")


def digit_oracle(images: torch.Tensor) -> torch.Tensor:
    """A perfect 'classifier' for synthetic digits whose every pixel is d / 4.5 - 1 (d = 0..9)."""
    centres = torch.arange(10, dtype=torch.float32) / 4.5 - 1
    return -(images.mean(dim=(1, 2, 3))[:, None] - centres[None, :]).square()


def synthetic_digits(digits: torch.Tensor, size: int = 28) -> torch.Tensor:
    """(N, 1, size, size) images the ``digit_oracle`` reads as ``digits``."""
    return (digits.float() / 4.5 - 1).view(-1, 1, 1, 1).expand(-1, 1, size, size).clone()
