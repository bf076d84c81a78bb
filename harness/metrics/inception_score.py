"""Inception Score exp(E_x KL(p(y|x) ‖ p(y))) from class logits or probabilities, over ``splits`` splits.

Matches torch-fidelity's ``isc_features_to_metric``: samples shuffled with
``numpy.random.RandomState(seed).permutation`` (default seed 2020), float64, population std over splits.
With the MNIST classifier the score lies in [1, 10] (10 = confident and all digits equally often).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..contract.errors import MetricError

DEFAULT_SPLITS = 10
DEFAULT_SEED = 2020


def inception_score(logits: Tensor | np.ndarray | None = None, *, probabilities: Tensor | np.ndarray | None = None,
                    splits: int = DEFAULT_SPLITS, shuffle: bool = True,
                    seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """IS mean and std over splits; give exactly one of ``logits`` or ``probabilities`` (N, classes)."""
    if (logits is None) == (probabilities is None):
        raise MetricError("inception_score takes exactly one of logits= or probabilities=")
    scores = logits if logits is not None else probabilities
    scores = torch.as_tensor(scores).detach().to("cpu", torch.float64)
    if scores.dim() != 2 or len(scores) < splits:
        raise MetricError(f"inception score needs (N, classes) with N >= splits={splits}, got {tuple(scores.shape)}")
    if shuffle:
        scores = scores[torch.from_numpy(np.random.RandomState(seed).permutation(len(scores)))]
    if logits is not None:
        log_p = scores.log_softmax(dim=1)
    else:
        log_p = (scores / scores.sum(dim=1, keepdim=True)).log()  # log 0 = -inf, masked by p = 0 below
    p = log_p.exp()
    n = len(scores)
    values = []
    for i in range(splits):
        chunk_p, chunk_log_p = p[i * n // splits:(i + 1) * n // splits], log_p[i * n // splits:(i + 1) * n // splits]
        log_marginal = chunk_p.mean(dim=0, keepdim=True).log()
        kl = torch.where(chunk_p > 0, chunk_p * (chunk_log_p - log_marginal), torch.zeros_like(chunk_p))
        values.append(float(kl.sum(dim=1).mean().exp()))
    return float(np.mean(values)), float(np.std(values))
