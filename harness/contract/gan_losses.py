"""GAN objectives as small pure functions of discriminator outputs (logits or critic values).

Each names its paper. ``real_target`` is the label for real data in the discriminator's loss;
values below 1 give one-sided label smoothing (Salimans et al. 2016, arXiv 1606.03498).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def bce_discriminator(real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """Goodfellow et al. 2014 (arXiv 1406.2661): −E[log D(x)] − E[log(1 − D(G(z)))]."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def bce_generator_nonsaturating(fake_logits: Tensor) -> Tensor:
    """Goodfellow et al. 2014, §3: maximise log D(G(z)) instead, for strong early gradients."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def bce_generator_minimax(fake_logits: Tensor) -> Tensor:
    """Goodfellow et al. 2014, the original game: minimise log(1 − D(G(z))) = −softplus(logit)."""
    return -F.softplus(fake_logits).mean()


def wasserstein_critic(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Arjovsky et al. 2017 (arXiv 1701.07875): the critic maximises E[D(x)] − E[D(G(z))]."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator(fake_scores: Tensor) -> Tensor:
    return -fake_scores.mean()


def least_squares_discriminator(real_out: Tensor, fake_out: Tensor, real_target: float = 1.0) -> Tensor:
    """Mao et al. 2017 (arXiv 1611.04076), a-b-c = 0-1-1 coding: ½E[(D(x)−1)²] + ½E[D(G(z))²]."""
    return 0.5 * ((real_out - real_target).pow(2).mean() + fake_out.pow(2).mean())


def least_squares_generator(fake_out: Tensor) -> Tensor:
    return 0.5 * (fake_out - 1.0).pow(2).mean()


def hinge_discriminator(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Lim & Ye 2017 / Miyato et al. 2018 (arXiv 1802.05957): E[relu(1−D(x))] + E[relu(1+D(G(z)))]."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def hinge_generator(fake_scores: Tensor) -> Tensor:
    return -fake_scores.mean()
