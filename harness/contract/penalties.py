"""Gradient penalties, written once for every plugin so they stay correct under fp16 and DDP.

Under fp16 autocast the inner gradient is taken of the *scaled* output and unscaled before
the norm (PyTorch AMP examples, "Gradient penalty"), so small gradients do not underflow to
zero in half precision; the norm itself is computed in float32. ``scale`` is that loss scale,
1.0 when no scaler is active. If the scaled inner gradient overflows, the penalty and so the
loss become inf: the trainer lets that reach the phase's GradScaler, which skips the step and
lowers the scale, exactly as for an overflow in the outer backward.

Under data parallelism the penalty is computed per process on its shard (it is a per-sample
mean, so averaging the resulting parameter gradients across processes, as the trainer does,
gives the global batch's gradient); the double backward never crosses a process boundary.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def _input_gradients(critic: Callable[..., Tensor], inputs: Tensor, args: tuple[Tensor, ...],
                     scale: float) -> Tensor:
    inputs = inputs.detach().requires_grad_(True)
    outputs = critic(inputs, *args)
    if isinstance(outputs, tuple):  # (score, extras…) discriminators, e.g. ACGAN's (validity, class logits)
        outputs = outputs[0]
    (grads,) = torch.autograd.grad(outputs.float().sum() * scale, inputs, create_graph=True)
    grads = grads.float()
    return grads / scale if scale != 1.0 else grads


def gradient_penalty(critic: Callable[..., Tensor], real: Tensor, fake: Tensor, *args: Tensor,
                     target: float = 1.0, scale: float = 1.0, generator: torch.Generator | None = None,
                     eps: Tensor | None = None) -> Tensor:
    """Gulrajani et al. 2017 (arXiv 1704.00028): E[(‖∇D(x̂)‖₂ − target)²], x̂ = εx + (1−ε)G(z), ε ~ U[0,1].

    ``eps`` (shape (B, 1, …)) may be given by the caller, e.g. the trainer's rank-sharded draw.
    """
    if eps is None:
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    mixed = eps * real.detach() + (1.0 - eps) * fake.detach()
    grads = _input_gradients(critic, mixed, args, scale)
    norms = grads.flatten(1).norm(2, dim=1)
    return (norms - target).pow(2).mean()


def gradient_penalty_at(critic: Callable[..., Tensor], points: Tensor, *args: Tensor, target: float = 1.0,
                        scale: float = 1.0) -> Tensor:
    """E[(‖∇D(x̂)‖₂ − target)²] at points the caller chose, e.g. DRAGAN's perturbed real data
    (Kodali et al. 2017, arXiv 1705.07215)."""
    norms = _input_gradients(critic, points, args, scale).flatten(1).norm(2, dim=1)
    return (norms - target).pow(2).mean()


def r1_penalty(critic: Callable[..., Tensor], real: Tensor, *args: Tensor, scale: float = 1.0) -> Tensor:
    """Mescheder et al. 2018 (arXiv 1801.04406): E[‖∇D(x)‖²] on real data (multiply by γ/2 yourself)."""
    grads = _input_gradients(critic, real, args, scale)
    return grads.flatten(1).pow(2).sum(dim=1).mean()


def input_gradient(outputs: Tensor, inputs: Tensor, weights: Tensor | None = None, scale: float = 1.0) -> Tensor:
    """∂(Σ outputs · weights)/∂inputs with a graph (for a loss that backpropagates through it), in float32.

    Under fp16 the scaled sum is differentiated and the result unscaled, as for the penalties above."""
    if not inputs.requires_grad:
        raise ValueError("input_gradient: the inputs do not require grad; make them a leaf that does "
                         "(x = x.detach().requires_grad_()) before computing the outputs from them")
    if not outputs.requires_grad:
        raise ValueError("input_gradient: the outputs do not depend on anything that requires grad; compute "
                         "them from the inputs after those require grad")
    total = outputs.float() if weights is None else outputs.float() * weights.float()
    (grads,) = torch.autograd.grad(total.sum() * scale, inputs, create_graph=True)
    grads = grads.float()
    return grads / scale if scale != 1.0 else grads


def path_lengths(images: Tensor, w: Tensor, noise: Tensor, scale: float = 1.0) -> Tensor:
    """StyleGAN2's per-sample path lengths ‖J_wᵀ y‖ (Karras et al. 2020, arXiv 1912.04958, §3.2), with
    y = ``noise`` (N(0, I)/√(H·W) in the paper): the gradient of ⟨G(w), y⟩ with respect to w, its squared
    entries summed over the last dimension, averaged over any middle (per-layer) dimension, square-rooted."""
    grads = input_gradient(images, w, noise, scale)
    squared = grads.square().sum(dim=-1)
    if squared.dim() > 1:
        squared = squared.flatten(1).mean(dim=1)
    return squared.sqrt()
