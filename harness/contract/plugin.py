"""The plugin contract: what a GAN must provide and what the harness gives it in return.

A plugin is a class registered in the ``ganzoo.models`` entry-point group. It owns the
*method*: networks, losses and the order of updates (its phases). The harness owns
everything else: devices, precision, distribution, backward, optimizer steps, EMA,
logging and checkpoints. So a plugin never imports Accelerate, never calls
``.backward()`` or ``.step()``, and never moves tensors between devices: batches arrive
on the right device and new tensors come from the step context (``ctx.latent``).

Minimal shape of a plugin (see ``zoo/gan.py`` for a full one)::

    class MyGAN(GANPlugin):
        spec = ModelSpec(name="my-gan", ...)
        Config = MyConfig                       # a ModelConfig subclass

        def build(self):                        # networks, by name
            return {"G": ..., "D": ...}
        def optimizers(self):                   # one optimizer per network
            return {"G": OptimizerSpec(...), "D": OptimizerSpec(...)}
        def phases(self):                       # the update rule, as data
            return [Phase("discriminator", self.d_step, updates=("D",)),
                    Phase("generator", self.g_step, updates=("G",))]
        def sample(self, nets, ctx, n, labels=None):
            return nets.G(ctx.latent(n, self.config.latent_dim))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from .spec import DataInfo, ModelConfig, ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    from .tricks_config import TricksConfig


class OptimizerSpec(BaseModel):
    """Which optimizer the harness builds for one network (the harness owns the object)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["adam", "rmsprop", "sgd"] = "adam"
    lr: float = Field(gt=0)
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = Field(default=0.0, ge=0)
    weight_decay: float = Field(default=0.0, ge=0)
    #: learning-rate schedule over the run's iterations: constant, or constant until
    #: ``decay_start`` (a fraction of the run) then linearly to 0 (CycleGAN's schedule)
    decay: Literal["none", "linear"] = "none"
    decay_start: float = Field(default=0.5, ge=0, lt=1)


class Networks(dict[str, nn.Module]):
    """Networks by name, also readable as attributes (``nets.G``)."""

    def __getattr__(self, name: str) -> nn.Module:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no network named {name!r}; have {sorted(self)}") from None


@dataclass
class Batch:
    """One batch, already on the training device.

    ``real``: data samples; ``labels``: class indices for labelled data, else None;
    ``real_b``: a batch from the second domain for unpaired image data, else None.
    """

    real: Tensor
    labels: Tensor | None = None
    real_b: Tensor | None = None

    def __len__(self) -> int:
        return self.real.shape[0]


@dataclass
class PhaseResult:
    """What a phase step returns. The harness backpropagates ``loss``.

    ``logs`` are scalars to record (tensors are detached and averaged by the harness).
    ``d_real``/``d_fake`` are the discriminator's raw outputs on real and generated data,
    when the phase computed them; the harness derives its stability diagnostics from them.
    """

    loss: Tensor
    logs: dict[str, Tensor | float] = field(default_factory=dict)
    d_real: Tensor | None = None
    d_fake: Tensor | None = None


class StepContext(Protocol):
    """What the harness offers a phase step. Implemented by ``harness.contract.context.TrainingContext``."""

    step: int  # completed training iterations so far
    device: torch.device
    real_target: float  # 1.0, or less with one-sided label smoothing

    def latent(self, n: int, dim: int) -> Tensor:
        """Standard-normal noise of shape (n, dim) on the training device."""

    def random_labels(self, n: int) -> Tensor:
        """Uniform class labels of shape (n,) on the training device."""

    def gradient_penalty(self, critic: Callable[..., Tensor], real: Tensor, fake: Tensor, *args: Tensor,
                         target: float = 1.0) -> Tensor:
        """WGAN-GP penalty E[(‖∇D(x̂)‖ − target)²] on random interpolates (harness.contract.penalties)."""

    def r1_penalty(self, critic: Callable[..., Tensor], real: Tensor, *args: Tensor) -> Tensor:
        """R1 penalty E[‖∇D(x)‖²] on real data (harness.contract.penalties)."""

    def stash(self, key: str, value: Any) -> None:
        """Keep ``value`` for a later phase of this iteration (e.g. the D step's generated batch, still attached
        to G's graph, for a G step that reuses it: declare ``Phase(keeps_graph=("G",))`` on the D phase)."""

    def take(self, key: str) -> Any | None:
        """What an earlier phase of this iteration stashed under ``key``, once; None if nothing is there.
        The harness empties the stash after every iteration, so nothing crosses a checkpoint."""


class SampleContext(Protocol):
    """What the harness offers ``GANPlugin.sample``: noise from a generator it controls,
    so sample grids use the same latents every time."""

    device: torch.device

    def latent(self, n: int, dim: int) -> Tensor: ...


StepFn = Callable[[Networks, Batch, StepContext], PhaseResult]


@dataclass(frozen=True)
class Phase:
    """One kind of update in a training iteration.

    Each iteration runs every phase in order, ``repeats`` times each, drawing a fresh batch
    for each repeat. ``repeats`` may be a function of the completed iterations (e.g. WGAN's
    100 critic steps for the first 25 generator iterations): ``repeats=lambda step: ...``. Only the optimizers of ``updates`` step; the other networks are frozen
    (no parameter gradients) while this phase runs. ``after_update`` runs under
    ``torch.no_grad()`` after the optimizer step (e.g. WGAN's weight clipping).
    ``keeps_graph``: networks this phase does not update but whose autograd graph it builds for a later
    phase of the same iteration (DCGAN's D step generates the fakes the G step reuses, ``ctx.stash``):
    they keep ``requires_grad`` here and get no gradient from this phase's loss (it must use ``fake.detach()``).
    """

    name: str
    step: StepFn
    updates: tuple[str, ...]
    repeats: int | Callable[[int], int] = 1
    after_update: Callable[[Networks], None] | None = None
    keeps_graph: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not callable(self.repeats) and self.repeats < 1:
            raise ValueError(f"phase {self.name!r}: repeats must be >= 1, got {self.repeats}")
        if not self.updates:
            raise ValueError(f"phase {self.name!r} updates no network")

    def repeats_at(self, step: int) -> int:
        """How many times this phase runs in the iteration after ``step`` completed ones."""
        if not callable(self.repeats):
            return self.repeats
        count = self.repeats(step)
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"phase {self.name!r}: repeats({step}) must be an int >= 1, got {count!r}")
        return count


class GANPlugin(ABC):
    """Base class of every GAN plugin, built-in or third-party."""

    spec: ClassVar[ModelSpec]
    Config: ClassVar[type[ModelConfig]]
    #: networks whose averaged copy (EMA) samples and metrics may use
    generators: ClassVar[tuple[str, ...]] = ("G",)
    #: networks that judge data; harness-side tricks (instance noise, DiffAugment,
    #: PacGAN packing) are applied to their inputs
    discriminators: ClassVar[tuple[str, ...]] = ("D",)
    #: architecture tricks this plugin's discriminator honours when ``self.tricks`` asks for them:
    #: "minibatch_std", "minibatch_discrimination"
    architecture_tricks: ClassVar[frozenset[str]] = frozenset()
    #: presets this plugin's distribution ships, by preset name: the same tables as in ganzoo's
    #: ``registry.toml`` (``dataset``, ``description``, ``train``, ``params``; ``model`` may be
    #: left out). Names start with ``"<spec.name>/"``: ``"my-gan/ring"`` is what
    #: ``ganzoo run my-gan --dataset ring`` applies, and ``"my-gan/check"`` is the tiny
    #: configuration ``ganzoo check my-gan`` uses. Validated like registry.toml's (harness.contract.presets);
    #: on a name clash the registry.toml table wins and the clash is reported.
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = MappingProxyType({})

    def __init__(self, config: ModelConfig, data: DataInfo, tricks: TricksConfig | None = None) -> None:
        from .tricks_config import TricksConfig

        self.config = config
        self.data = data  # data.pack > 1: the discriminator takes `pack` samples concatenated on dim 1
        self.tricks = tricks or TricksConfig()

    @abstractmethod
    def build(self) -> Mapping[str, nn.Module]:
        """Create the networks (on CPU; the harness places them)."""

    @abstractmethod
    def optimizers(self) -> Mapping[str, OptimizerSpec]:
        """One optimizer spec for each network that a phase updates."""

    @abstractmethod
    def phases(self) -> list[Phase]:
        """The update rule of one training iteration, in order."""

    @abstractmethod
    def sample(self, nets: Networks, ctx: SampleContext, n: int, labels: Tensor | None = None) -> Tensor:
        """Draw ``n`` samples in data space (labels for conditional models)."""
