"""Drawing samples from a trained plugin: fixed noise, balanced labels, networks in eval mode."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

from ..contract.context import NoiseSource
from ..contract.errors import SampleError
from ..contract.gan_plugin import GANPlugin, Networks


def sample_labels(plugin: GANPlugin, n: int, class_index: int | None) -> Tensor | None:
    """Labels for a grid: class K everywhere, or 0, 1, …, K−1 repeated (one column per class)."""
    classes = plugin.data.num_classes if plugin.spec.conditional else None
    if class_index is not None:
        if not classes:
            raise SampleError(f"--class needs a class-conditional model; {plugin.spec.name} is unconditional")
        if not 0 <= class_index < classes:
            raise SampleError(f"--class must be in 0..{classes - 1} for this run, got {class_index}")
        return torch.full((n,), class_index, dtype=torch.long)
    return torch.arange(n) % classes if classes else None


@contextmanager
def eval_mode(nets: Networks) -> Iterator[None]:
    modes = {name: net.training for name, net in nets.items()}
    for net in nets.values():
        net.eval()
    try:
        yield
    finally:
        for name, net in nets.items():
            net.train(modes[name])


def balanced_labels(n: int, num_classes: int | None, device: torch.device) -> Tensor | None:
    """0, 1, …, K−1, 0, 1, … so every class is equally represented."""
    return None if not num_classes else torch.arange(n, device=device) % num_classes


@torch.no_grad()
def generate(plugin: GANPlugin, nets: Networks, n: int, seed: int, device: torch.device,
             chunk: int = 1000, labels: Tensor | None = None) -> Tensor:
    """``n`` samples on CPU from fixed noise: the same seed gives the same latents every time."""
    noise = NoiseSource(device, seed)
    if labels is None and plugin.spec.conditional:
        labels = balanced_labels(n, plugin.data.num_classes, device)
    parts = []
    with eval_mode(nets):
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            part_labels = None if labels is None else labels[start : start + size].to(device)
            parts.append(plugin.sample(nets, noise, size, part_labels).float().cpu())
    return torch.cat(parts)


@torch.no_grad()
def render_view(plugin: GANPlugin, nets: Networks, name: str, seed: int, device: torch.device) -> tuple[Tensor, int]:
    """One named sample view (``GANPlugin.sample_views``): (images on CPU, columns), from fixed noise."""
    views = plugin.sample_views()
    if name not in views:
        offered = ", ".join(sorted(views)) or "none"
        raise KeyError(f"{plugin.spec.name} has no sample view {name!r}; it offers: {offered}")
    with eval_mode(nets):
        images, nrow = views[name](nets, NoiseSource(device, seed))
    return images.float().cpu(), int(nrow)

