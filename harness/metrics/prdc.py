"""Precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020) from features.

Definitions follow the reference code github.com/clovaai/generative-evaluation-prdc exactly:
a sample's radius is the distance to its k-th nearest neighbour in its own set, *excluding itself*
(the (k+1)-th smallest distance with the zero self-distance counted), and "inside a ball" is a strict
``<``. With real radii r_i and fake radii s_j:

- precision = fraction of fakes inside at least one real ball,  ∃i d(r_i, f_j) < r_i
- recall    = fraction of reals inside at least one fake ball,  ∃j d(r_i, f_j) < s_j
- density   = (1/k) · mean over fakes of the number of real balls containing it
- coverage  = fraction of reals whose nearest fake lies inside their own ball

The k-NN search is exact (torch.cdist) and runs over row chunks, so 10,000 × 10,000 needs a few
tens of MB instead of the 800 MB of a full float64 distance matrix. Distances are float64 by default.
Several k are evaluated from one pass over the distances (the harness uses k=3 for precision/recall
and k=5 for density/coverage).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

from ..contract.errors import MetricError

PRECISION_RECALL_K = 3
DENSITY_COVERAGE_K = 5
DEFAULT_CHUNK_SIZE = 1000


def nearest_neighbour_radii(features: Tensor, ks: Iterable[int],
                            chunk_size: int = DEFAULT_CHUNK_SIZE) -> dict[int, Tensor]:
    """For each k, the distance of every row to its k-th nearest other row (self excluded)."""
    ks = sorted(set(ks))
    smallest = [torch.cdist(chunk, features).topk(ks[-1] + 1, dim=1, largest=False).values
                for chunk in features.split(chunk_size)]
    ordered = torch.cat(smallest)  # ascending; column 0 is the self-distance
    return {k: ordered[:, k] for k in ks}


def prdc_by_k(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, ks: Iterable[int], *,
              chunk_size: int = DEFAULT_CHUNK_SIZE, dtype: torch.dtype = torch.float64) -> dict[int, dict[str, float]]:
    """{k: {precision, recall, density, coverage}} for every k in ``ks``, from one pass over the distances."""
    real = torch.as_tensor(real).detach().to("cpu", dtype)
    fake = torch.as_tensor(fake).detach().to("cpu", dtype)
    ks = sorted(set(ks))
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise MetricError(f"PRDC needs (N, d) and (M, d) features, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if not ks or ks[0] < 1 or ks[-1] >= min(len(real), len(fake)):
        raise MetricError(f"PRDC needs 1 <= k < number of samples; got k={ks} with {len(real)} real and "
                          f"{len(fake)} fake samples: lower k or give more samples")
    real_radii = nearest_neighbour_radii(real, ks, chunk_size)
    fake_radii = nearest_neighbour_radii(fake, ks, chunk_size)
    real_balls_per_fake = {k: torch.zeros(len(fake), dtype=torch.int64) for k in ks}
    real_in_fake_ball = {k: torch.zeros(len(real), dtype=torch.bool) for k in ks}
    real_covered = {k: torch.zeros(len(real), dtype=torch.bool) for k in ks}
    for start in range(0, len(real), chunk_size):
        rows = slice(start, start + chunk_size)
        distances = torch.cdist(real[rows], fake)  # (chunk, M)
        nearest_fake = distances.min(dim=1).values
        for k in ks:
            real_balls_per_fake[k] += (distances < real_radii[k][rows, None]).sum(dim=0)
            real_in_fake_ball[k][rows] = (distances < fake_radii[k][None, :]).any(dim=1)
            real_covered[k][rows] = nearest_fake < real_radii[k][rows]
    return {k: {"precision": float((real_balls_per_fake[k] > 0).double().mean()),
                "recall": float(real_in_fake_ball[k].double().mean()),
                "density": float(real_balls_per_fake[k].double().mean() / k),
                "coverage": float(real_covered[k].double().mean())} for k in ks}


def prdc(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, nearest_k: int = DENSITY_COVERAGE_K, *,
         chunk_size: int = DEFAULT_CHUNK_SIZE, dtype: torch.dtype = torch.float64) -> dict[str, float]:
    """All four with one k, as ``prdc.compute_prdc(real, fake, nearest_k)`` of the reference code."""
    return prdc_by_k(real, fake, [nearest_k], chunk_size=chunk_size, dtype=dtype)[nearest_k]


def precision_recall(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, k: int = PRECISION_RECALL_K,
                     **options) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), k = 3 by default."""
    values = prdc(real, fake, k, **options)
    return {"precision": values["precision"], "recall": values["recall"]}


def density_coverage(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, k: int = DENSITY_COVERAGE_K,
                     **options) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020), k = 5 by default."""
    values = prdc(real, fake, k, **options)
    return {"density": values["density"], "coverage": values["coverage"]}
