"""The VEEGAN/PacGAN mixture metrics on hand-built samples with known answers."""

import math

import torch

from ganzoo.harness.data.mixtures import MIXTURES, grid_centers, ring_centers
from ganzoo.harness.metrics.mixture import mixture_scores, reverse_kl


def test_all_samples_on_five_centres():
    centers, std = MIXTURES["ring"]
    samples = centers[:5].repeat(100, 1)
    scores = mixture_scores(samples, centers, std)
    assert (scores.modes_captured, scores.modes_total, scores.hq_fraction) == (5, 8, 1.0)
    assert math.isclose(scores.reverse_kl, math.log(8 / 5), rel_tol=1e-9)


def test_points_far_from_every_centre_are_low_quality():
    centers, std = MIXTURES["grid"]
    samples = torch.full((50, 2), 1.0)  # midway between grid centres: 1.41 away, threshold is 0.15
    scores = mixture_scores(samples, centers, std)
    assert scores.hq_fraction == 0.0 and scores.modes_captured == 0 and math.isinf(scores.reverse_kl)


def test_quality_threshold_is_three_standard_deviations():
    centers, std = MIXTURES["ring"]
    inside = centers[0] + torch.tensor([2.9 * std, 0.0])
    outside = centers[0] + torch.tensor([3.1 * std, 0.0])
    scores = mixture_scores(torch.stack([inside, outside]), centers, std)
    assert scores.hq_fraction == 0.5 and scores.modes_captured == 1


def test_reverse_kl_of_known_histograms():
    assert reverse_kl(torch.tensor([5, 5, 5, 5])) == 0.0
    assert math.isclose(reverse_kl(torch.tensor([3, 1, 0, 0])),
                        0.75 * math.log(0.75 * 4) + 0.25 * math.log(0.25 * 4), rel_tol=1e-12)


def test_real_data_scores_perfectly():
    centers, std = MIXTURES["grid"]
    which = torch.arange(2500) % 25
    samples = centers[which] + torch.randn(2500, 2, generator=torch.Generator().manual_seed(0)) * std
    scores = mixture_scores(samples, centers, std)
    # in 2-D, P(‖noise‖ ≤ 3σ) = 1 − exp(−9/2) ≈ 0.989: even real data is not 100 % "high quality"
    assert scores.modes_captured == 25 and abs(scores.hq_fraction - (1 - math.exp(-4.5))) < 0.01
    assert scores.reverse_kl < 1e-3


def test_centres_match_the_protocol():
    assert torch.allclose(ring_centers().norm(dim=1), torch.ones(8))
    assert sorted(set(grid_centers()[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
