"""The harness side of the plugin contract: noise, labels and penalties on the right device.

Under data parallelism every process draws the *global* batch's noise from one generator
seeded alike on all ranks and keeps its own slice (rank r of w gets rows r·n … (r+1)·n of the
n·w drawn). So every rank sees different noise, and a run on w processes with batch n equals a
single-process run with batch n·w draw for draw. Noise whose size scales with the data
(instance noise, DiffAugment) comes from ``local``, a per-rank generator, to avoid drawing w
copies of an image batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from . import penalties
from .augment import diff_augment
from .gan_plugin import OptimizerState
from .tricks_config import parse_policy


class NoiseSource:
    """Random tensors from one seeded generator on the training device (so runs replay exactly)."""

    def __init__(self, device: torch.device, seed: int, num_classes: int | None = None) -> None:
        self.device = device
        self.num_classes = num_classes
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def latent(self, n: int, dim: int) -> Tensor:
        return torch.randn(n, dim, device=self.device, generator=self.generator)

    def random_labels(self, n: int) -> Tensor:
        if not self.num_classes:
            raise ValueError("random_labels() needs labelled data; this dataset has no classes")
        return torch.randint(self.num_classes, (n,), device=self.device, generator=self.generator)

    def uniform(self, n: int, dim: int, low: float = -1.0, high: float = 1.0) -> Tensor:
        return low + (high - low) * torch.rand(n, dim, device=self.device, generator=self.generator)

    def categorical(self, n: int, k: int) -> Tensor:
        return torch.randint(k, (n,), device=self.device, generator=self.generator)


def local_seed(seed: int, rank: int) -> int:
    """The seed of a rank's private streams (distinct per rank, and from the shared stream)."""
    return (seed * 1_000_003 + 7_919 * (rank + 1)) % (2**63)


class TrainingContext(NoiseSource):
    """Implements ``harness.contract.gan_plugin.StepContext``; ``rank``/``world`` shard the global batch's noise."""

    def __init__(self, device: torch.device, seed: int, num_classes: int | None, real_target: float = 1.0,
                 *, rank: int = 0, world: int = 1) -> None:
        super().__init__(device, seed, num_classes)
        self.rank, self.world = rank, world
        self.local = NoiseSource(device, local_seed(seed, rank), num_classes)
        self.step = 0
        self.real_target = real_target
        self.loss_scale = 1.0  # the current phase's fp16 loss scale, for the penalties
        self.interval = 1  # the current phase's ``every``
        #: which gradient-penalty helpers the current phase step called (harness.train.conflicts reads it)
        self.used: set[str] = set()
        #: plugin-state updates a helper computed in the current step (the path-length average); the
        #: trainer applies them only when the step is applied, like Phase.after_step
        self.pending: dict[str, Tensor] = {}
        #: the plugin's training state (``GANPlugin.initial_state``), on the device; read-only in steps,
        #: changed in ``Phase.after_step`` (which runs only for applied steps)
        self.state: dict[str, Tensor] = {}
        self._stash: dict[str, object] = {}  # within one iteration only (emptied by the trainer)
        #: the run's optimizers (harness.train.setup sets them), which ``optimizer_state`` reads
        self.optimizers: list[torch.optim.Optimizer] = []

    def _shard(self, draw: Callable[[int], Tensor], n: int) -> Tensor:
        if self.world == 1:
            return draw(n)
        return draw(n * self.world)[self.rank * n : (self.rank + 1) * n]

    def latent(self, n: int, dim: int) -> Tensor:
        return self._shard(lambda m: torch.randn(m, dim, device=self.device, generator=self.generator), n)

    def random_labels(self, n: int) -> Tensor:
        if not self.num_classes:
            raise ValueError("random_labels() needs labelled data; this dataset has no classes")
        return self._shard(lambda m: torch.randint(self.num_classes, (m,), device=self.device,
                                                   generator=self.generator), n)

    def uniform(self, n: int, dim: int, low: float = -1.0, high: float = 1.0) -> Tensor:
        return low + (high - low) * self._shard(
            lambda m: torch.rand(m, dim, device=self.device, generator=self.generator), n)

    def categorical(self, n: int, k: int) -> Tensor:
        return self._shard(lambda m: torch.randint(k, (m,), device=self.device, generator=self.generator), n)

    def mean_over_processes(self, value: Tensor) -> Tensor:
        """The mean of ``value`` over the data-parallel processes (itself with one process), so that
        plugin state computed from each process's half-batch stays identical on every replica."""
        if self.world == 1:
            return value
        import torch.distributed as dist

        out = value.detach().clone().float()
        dist.all_reduce(out)
        return (out / self.world).to(value.dtype)

    def gradient_penalty(self, critic, real: Tensor, fake: Tensor, *args: Tensor, target: float = 1.0) -> Tensor:
        self.used.add("gradient_penalty")
        shape = (1,) * (real.dim() - 1)
        eps = self._shard(lambda m: torch.rand((m, *shape), device=real.device, dtype=real.dtype,
                                               generator=self.generator), real.shape[0])
        return penalties.gradient_penalty(critic, real, fake, *args, target=target, scale=self.loss_scale, eps=eps)

    def gradient_penalty_at(self, critic, points: Tensor, *args: Tensor, target: float = 1.0) -> Tensor:
        self.used.add("gradient_penalty_at")
        return penalties.gradient_penalty_at(critic, points, *args, target=target, scale=self.loss_scale)

    def r1_penalty(self, critic, real: Tensor, *args: Tensor) -> Tensor:
        self.used.add("r1_penalty")
        return penalties.r1_penalty(critic, real, *args, scale=self.loss_scale)

    def augment(self, images: Tensor, policy: str = "color,translation,cutout") -> Tensor:
        self.used.add("augment")
        return diff_augment(images, parse_policy(policy), generator=self.local.generator)

    def input_gradient(self, outputs: Tensor, inputs: Tensor, weights: Tensor | None = None) -> Tensor:
        return penalties.input_gradient(outputs, inputs, weights, scale=self.loss_scale)

    def path_length_penalty(self, images: Tensor, w: Tensor, key: str = "pl_mean", decay: float = 0.01) -> Tensor:
        if key not in self.state:
            raise ValueError(f"path_length_penalty keeps its moving average in the plugin state under {key!r}: "
                             f"declare it in initial_state() (e.g. {{{key!r}: 0.0}}); the state has {sorted(self.state)}")
        if not 0 < decay <= 1:
            raise ValueError(f"path_length_penalty: decay must be in (0, 1], got {decay}")
        # y ~ N(0, I)/√(H·W): data-sized noise from this rank's private stream (checkpointed per rank)
        spatial = math.prod(images.shape[2:]) if images.dim() > 2 else 1
        noise = torch.randn(images.shape, device=images.device, dtype=torch.float32,
                            generator=self.local.generator) / math.sqrt(spatial)
        lengths = penalties.path_lengths(images, w, noise, scale=self.loss_scale)
        average = self.state[key]
        # every process sees the same batch mean, so the average stays identical on all of them
        batch_mean = self.mean_over_processes(lengths.detach().mean().to(average.dtype))
        updated = average.detach().lerp(batch_mean, decay)
        self.pending[key] = updated
        return (lengths - updated.float()).square().mean()

    def commit_pending(self) -> None:
        """Apply the state updates the helpers computed (the step was applied)."""
        for key, value in self.pending.items():
            self.state[key] = value.detach().clone()
        self.pending.clear()

    def optimizer_state(self, module: nn.Module) -> dict[str, OptimizerState]:
        owners = {id(p): (optimizer, group) for optimizer in self.optimizers
                  for group in optimizer.param_groups for p in group["params"]}
        states = {}
        for name, param in module.named_parameters():
            if id(param) not in owners:
                continue
            optimizer, group = owners[id(param)]
            slots = optimizer.state.get(param, {})
            copy = {k: slots[k].detach().clone() for k in ("exp_avg", "exp_avg_sq") if k in slots}
            states[name] = OptimizerState(
                kind=type(optimizer).__name__.lower(), lr=float(group["lr"]),
                betas=tuple(group["betas"]) if "betas" in group else None, eps=group.get("eps"),
                step=int(slots["step"]) if "step" in slots else 0, **copy)
        return states

    def stash(self, key: str, value) -> None:
        self._stash[key] = value

    def take(self, key: str):
        return self._stash.pop(key, None)

    def clear_stash(self) -> None:
        self._stash.clear()

    # -- resumable state --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"shared": self.generator.get_state(), "local": self.local.generator.get_state()}

    def load_state_dict(self, state: dict, *, local: bool = True) -> None:
        self.generator.set_state(state["shared"])
        if local:
            self.local.generator.set_state(state["local"])
