"""Relativistic average objectives — Jolicoeur-Martineau 2018 (arXiv 1807.00734), §4.

A standard discriminator estimates the probability that its input is real. The *relativistic
average* discriminator estimates the probability that a real sample is more realistic than the
average fake one (and vice versa), from the same critic C (D's raw output)::

    D_ra(x_r, x_f) = σ(C(x_r) − E_{x_f}[C(x_f)])        D_ra(x_f, x_r) = σ(C(x_f) − E_{x_r}[C(x_r)])

RaSGAN (eq. 9 and 10, with the paper code's ½):

    L_D = −½ E_{x_r}[log D_ra(x_r, x_f)] − ½ E_{x_f}[log(1 − D_ra(x_f, x_r))]
    L_G = −½ E_{x_f}[log D_ra(x_f, x_r)] − ½ E_{x_r}[log(1 − D_ra(x_r, x_f))]

So G's loss also depends on real data (the first term of L_G pulls fake samples up, the second
pushes real ones down): the paper's argument for why the relativistic discriminator helps.
RaLSGAN and RaHingeGAN (§4.3) put the same relativistic outputs
C̃(x_r) = C(x_r) − E[C(x_f)] and C̃(x_f) = C(x_f) − E[C(x_r)] into the least-squares and hinge
losses. Expectations are batch means (per process under data parallelism, as in the paper's code).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Loss = Literal["rasgan", "ralsgan", "rahinge"]


def relativistic(real_out: Tensor, fake_out: Tensor) -> tuple[Tensor, Tensor]:
    """(C̃(x_r), C̃(x_f)): each critic output relative to the other batch's average."""
    return real_out - fake_out.mean(), fake_out - real_out.mean()


def rasgan_discriminator(real_out: Tensor, fake_out: Tensor) -> Tensor:
    real_rel, fake_rel = relativistic(real_out, fake_out)
    return 0.5 * (F.binary_cross_entropy_with_logits(real_rel, torch.ones_like(real_rel))
                  + F.binary_cross_entropy_with_logits(fake_rel, torch.zeros_like(fake_rel)))


def rasgan_generator(real_out: Tensor, fake_out: Tensor) -> Tensor:
    real_rel, fake_rel = relativistic(real_out, fake_out)
    return 0.5 * (F.binary_cross_entropy_with_logits(fake_rel, torch.ones_like(fake_rel))
                  + F.binary_cross_entropy_with_logits(real_rel, torch.zeros_like(real_rel)))


def ralsgan_discriminator(real_out: Tensor, fake_out: Tensor) -> Tensor:
    real_rel, fake_rel = relativistic(real_out, fake_out)
    return 0.5 * ((real_rel - 1.0).pow(2).mean() + (fake_rel + 1.0).pow(2).mean())


def ralsgan_generator(real_out: Tensor, fake_out: Tensor) -> Tensor:
    real_rel, fake_rel = relativistic(real_out, fake_out)
    return 0.5 * ((fake_rel - 1.0).pow(2).mean() + (real_rel + 1.0).pow(2).mean())


def rahinge_discriminator(real_out: Tensor, fake_out: Tensor) -> Tensor:
    real_rel, fake_rel = relativistic(real_out, fake_out)
    return 0.5 * (F.relu(1.0 - real_rel).mean() + F.relu(1.0 + fake_rel).mean())


def rahinge_generator(real_out: Tensor, fake_out: Tensor) -> Tensor:
    real_rel, fake_rel = relativistic(real_out, fake_out)
    return 0.5 * (F.relu(1.0 - fake_rel).mean() + F.relu(1.0 + real_rel).mean())


DISCRIMINATOR = {"rasgan": rasgan_discriminator, "ralsgan": ralsgan_discriminator, "rahinge": rahinge_discriminator}
GENERATOR = {"rasgan": rasgan_generator, "ralsgan": ralsgan_generator, "rahinge": rahinge_generator}
