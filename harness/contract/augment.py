"""DiffAugment — Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"
(arXiv 2006.10738). The same random, differentiable transforms are applied to real and generated
images before the discriminator, so gradients flow back to G through them. Ported from the
authors' reference implementation (policies: color, translation, cutout). Two users: the harness's
``train.tricks.diffaugment`` (D's view, harness.train.tricks) and plugins that augment their own D inputs
through ``ctx.augment`` (so the harness can tell when both would apply, harness.train.conflicts).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .tricks_config import POLICY_NAMES


def _rand(x: Tensor, *shape: int, generator: torch.Generator | None) -> Tensor:
    return torch.rand(x.shape[0], *shape, dtype=x.dtype, device=x.device, generator=generator)


def color(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    x = x + (_rand(x, 1, 1, 1, generator=generator) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(x, 1, 1, 1, generator=generator) * 2) + mean  # saturation
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand(x, 1, 1, 1, generator=generator) + 0.5) + mean  # contrast


def translation(x: Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device, generator=generator)
    ty = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device, generator=generator)
    bi, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[bi, gx, gy].permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device, generator=generator)
    oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device, generator=generator)
    bi, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, min=0, max=h - 1)
    gy = torch.clamp(gy + oy - cw // 2, min=0, max=w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[bi, gx, gy] = 0
    return x * mask.unsqueeze(1)


POLICIES = {"color": color, "translation": translation, "cutout": cutout}
assert set(POLICIES) == set(POLICY_NAMES)  # the config validates names against POLICY_NAMES


def diff_augment(x: Tensor, policy: list[str], generator: torch.Generator | None = None) -> Tensor:
    for name in policy:
        x = POLICIES[name](x, generator=generator)
    return x
