"""Data parallelism without DDP wrappers (the design of stylegan2-ada-pytorch).

Networks are never wrapped in ``DistributedDataParallel``. Each process runs the plugin's
phases on its shard of the global batch; after a phase's backward the gradients of the
networks *that phase updates* are averaged across processes in one collective (all of them
flattened into one buffer). That makes the awkward GAN cases correct by construction:

* alternating phases and frozen networks: only the updated networks are reduced, so the
  generator phase backpropagating through D never touches D's gradients;
* double-backward penalties (WGAN-GP, R1): computed locally, their parameter gradients are
  averaged like any other (the penalty is a per-sample mean);
* optional heads / unused parameters: a missing gradient counts as zeros in the buffer, and a
  parameter that has no gradient on *any* rank keeps ``grad = None`` (as in one process).

Every process builds the networks from the same seed and rank 0's weights are broadcast
once, so replicas start identical and stay identical (the same averaged gradient and the same
optimizer arithmetic on every rank). Buffers (BatchNorm statistics) are rank-local in
training and are broadcast from rank 0 before evaluation and checkpoints. The process group is
the one Accelerate initialises (``torch.distributed``); this module only adds collectives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ..contract.errors import DistributedError

EXPECTED_PROCESSES_ENV = "GANZOO_EXPECTED_PROCESSES"


class Distributed:
    def __init__(self, rank: int, world: int, device: torch.device) -> None:
        self.rank, self.world, self.device = rank, world, device
        self.enabled = world > 1
        if self.enabled and not dist.is_initialized():
            raise DistributedError(f"{world} processes but no torch.distributed process group; "
                                   "start multi-process runs with `ganzoo run ... --processes N`")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def check_world_size(self, expected: int | None = None) -> None:
        """Stop when the launcher gave a different number of processes than the user asked for."""
        if expected is None:
            raw = os.environ.get(EXPECTED_PROCESSES_ENV)
            expected = int(raw) if raw else None
        if expected is not None and expected != self.world:
            raise DistributedError(
                f"asked for {expected} processes but the process group has {self.world}: the launcher did not "
                "start them all (with `accelerate launch --cpu`, for instance, only one process starts). "
                "Use `ganzoo run MODEL --cpu --processes N` or `--gpus N`, which launch and check them.")

    # -- collectives ------------------------------------------------------------------------------
    def average_gradients(self, params: Sequence[nn.Parameter], flags: Tensor,
                          check_finite: bool = True) -> tuple[list[float], bool]:
        """Average ``params``' gradients over all ranks in one all-reduce.

        ``flags`` (a small float tensor: non-finite loss, stop request, …) rides in the same
        collective. Returns (``flags`` summed over ranks, whether any averaged gradient is
        inf/NaN), read back with a single host synchronisation.
        """
        pieces, sizes = [], []
        for p in params:
            grad = p.grad
            sizes.append(p.numel())
            pieces.append(grad.reshape(-1).float() if grad is not None
                          else torch.zeros(p.numel(), device=p.device, dtype=torch.float32))
        present = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=self.device)
        buffer = torch.cat([*pieces, present, flags.to(self.device, torch.float32).reshape(-1)])
        dist.all_reduce(buffer)
        total = sum(sizes)
        grads = buffer[:total].div_(self.world)
        tail = buffer[total:]
        if check_finite and total:
            tail = torch.cat([tail, (~torch.isfinite(grads).all()).float().reshape(1)])
        values = tail.tolist()
        had_grad, reduced = values[: len(params)], values[len(params) : len(params) + flags.numel()]
        grads_bad = bool(values[-1]) if check_finite and total else False
        for p, chunk, seen in zip(params, torch.split(grads, sizes), had_grad):
            if not seen:
                continue  # no rank produced a gradient: leave None, as a single process would
            chunk = chunk.view_as(p)
            if p.grad is None:
                p.grad = chunk.to(p.dtype).clone()
            else:
                p.grad.copy_(chunk)
        return reduced, grads_bad

    def broadcast_modules(self, modules: Iterable[nn.Module], *, buffers_only: bool = False) -> None:
        """Copy rank 0's parameters (unless ``buffers_only``) and buffers to every rank."""
        if not self.enabled:
            return
        tensors: list[Tensor] = []
        for module in modules:
            if not buffers_only:
                tensors += [p.data for p in module.parameters()]
            tensors += [b for b in module.buffers()]
        for dtype in sorted({t.dtype for t in tensors}, key=str):
            group = [t for t in tensors if t.dtype == dtype]
            flat = torch.cat([t.reshape(-1) for t in group])
            dist.broadcast(flat, src=0)
            for t, chunk in zip(group, torch.split(flat, [t.numel() for t in group])):
                t.copy_(chunk.view_as(t))

    def all_sum(self, values: Tensor) -> Tensor:
        if self.enabled:
            values = values.clone()
            dist.all_reduce(values)
        return values

    def gather_objects(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order (on every rank)."""
        if not self.enabled:
            return [obj]
        result: list[Any] = [None] * self.world
        dist.all_gather_object(result, obj)
        return result

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def replicas_identical(self, modules: Iterable[nn.Module]) -> bool:
        """Do all ranks hold bit-identical parameters? (A fingerprint: exact sums in float64.)"""
        if not self.enabled:
            return True
        params = [p.detach().double().reshape(-1) for m in modules for p in m.parameters()]
        if not params:
            return True
        flat = torch.cat(params)
        weights = torch.arange(1, flat.numel() + 1, device=flat.device, dtype=torch.float64).remainder_(9973)
        mine = torch.stack([flat.sum(), (flat * weights).sum(), flat.abs().max()])
        everyone = self.gather_objects(mine.cpu())
        return all(torch.equal(everyone[0], other) for other in everyone[1:])
