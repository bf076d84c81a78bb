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

from .model_spec import DataInfo, ModelConfig, ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    from .tricks_config import TricksConfig


class PlateauSpec(BaseModel):
    """A learning-rate schedule driven by a training signal (BEGAN's decay when M_global stalls)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    diagnostic: str
    factor: float = Field(0.5, gt=0, lt=1)
    patience: int = Field(1000, ge=1)
    #: an improvement must beat the best value by this relative margin
    threshold: float = Field(0.0, ge=0)
    min_lr: float = Field(0.0, ge=0)


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
    #: parameter groups with their own learning rate: submodule-name prefix → lr (e.g. ``{"q_head": 2e-4}``
    #: gives the parameters of the network's ``q_head`` submodule lr 2e-4); every other parameter gets ``lr``
    param_groups: dict[str, float] = Field(default_factory=dict)
    #: lower the learning rates when a diagnostic stops improving (falling), e.g.
    #: ``PlateauSpec(diagnostic="M_global", factor=0.5, patience=2000)``: ×factor after ``patience``
    #: iterations without a new minimum. The diagnostic is a ``PhaseResult.diagnostics`` key, as
    #: recorded: ``"<phase>/<key>"`` or just ``"<key>"`` when one phase reports it.
    plateau: PlateauSpec | None = None
    #: StyleGAN2's lazy-regularization correction (Karras et al. 2020, arXiv 1912.04958, Appendix B): when this
    #: network's regularization phase runs every ``c`` iterations (``Phase(every=c)``) and shares its optimizer,
    #: the optimizer takes lr × c/(c+1) and betas β^(c/(c+1)), so the main and the regularization steps together
    #: move the weights about as one step of the uncorrected optimizer would. ``None``: no correction.
    lazy_interval: int | None = Field(default=None, ge=1)

    def lazy_ratio(self) -> float:
        """c/(c+1) for ``lazy_interval`` c, 1.0 without it."""
        return 1.0 if self.lazy_interval is None else self.lazy_interval / (self.lazy_interval + 1)

    def corrected_betas(self) -> tuple[float, float]:
        """``betas`` after the lazy-regularization correction, β^(c/(c+1))."""
        ratio = self.lazy_ratio()
        return (self.betas[0] ** ratio, self.betas[1] ** ratio) if ratio != 1.0 else self.betas


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


@dataclass(frozen=True)
class OptimizerState:
    """What the harness's optimizer holds for one parameter (``StepContext.optimizer_state``): the settings of
    its parameter group now (schedules and rollbacks included) and, for Adam, its moments. Tensors are
    detached copies, so a step may build on them (Unrolled GAN continues D's Adam through its lookahead)."""

    kind: str  #: "adam", "rmsprop" or "sgd" (torch.optim's class, lower-cased)
    lr: float
    betas: tuple[float, float] | None = None  #: Adam's β₁, β₂
    eps: float | None = None
    step: int = 0  #: optimizer steps this parameter has taken (0 before the first)
    exp_avg: Tensor | None = None  #: Adam's first moment m (None before the first step)
    exp_avg_sq: Tensor | None = None  #: Adam's second moment v (None before the first step)


@dataclass
class PhaseResult:
    """What a phase step returns. The harness backpropagates ``loss``.

    ``logs`` are scalars to record (tensors are detached and averaged by the harness).
    ``d_real``/``d_fake`` are the discriminator's raw outputs on real and generated data,
    when the phase computed them; the harness derives its stability diagnostics from them.
    They must be 1-D with one score per judged sample: length N, or N/pack under PacGAN packing
    (a plugin whose D has no scalar scores sets ``GANPlugin.scalar_scores = False`` and leaves them out).
    """

    loss: Tensor
    logs: dict[str, Tensor | float] = field(default_factory=dict)
    d_real: Tensor | None = None
    d_fake: Tensor | None = None
    #: the plugin's own diagnostics (scalars): recorded at the step (not averaged over the log
    #: interval) in metrics.jsonl ``diagnostics`` as ``"<phase>/<key>"``, plotted in their own
    #: panel, reported in summary.json (final values) and report.md, usable as ``train.best_metric``
    #: and as a bench metric column, and as the signal of ``OptimizerSpec.plateau``
    diagnostics: dict[str, Tensor | float] = field(default_factory=dict)


class StepContext(Protocol):
    """What the harness offers a phase step. Implemented by ``harness.contract.context.TrainingContext``."""

    step: int  # completed training iterations so far
    interval: int  # the running phase's ``every`` (1 for ordinary phases): weight a lazy penalty by it
    device: torch.device
    real_target: float  # 1.0, or less with one-sided label smoothing

    state: dict[str, Tensor]  # the plugin's training state (GANPlugin.initial_state); change it in after_step

    def latent(self, n: int, dim: int) -> Tensor:
        """Standard-normal noise of shape (n, dim) on the training device."""

    def uniform(self, n: int, dim: int, low: float = -1.0, high: float = 1.0) -> Tensor:
        """Uniform noise U(low, high) of shape (n, dim) on the training device (seeded like ``latent``)."""

    def categorical(self, n: int, k: int) -> Tensor:
        """Uniform integer codes in [0, k) of shape (n,) on the training device (seeded like ``latent``)."""

    def random_labels(self, n: int) -> Tensor:
        """Uniform class labels of shape (n,) on the training device."""

    def mean_over_processes(self, value: Tensor) -> Tensor:
        """The mean over data-parallel processes (the value itself with one process): use it on
        anything a state update computes from the local half-batch, so replicas stay identical."""

    def gradient_penalty(self, critic: Callable[..., Tensor], real: Tensor, fake: Tensor, *args: Tensor,
                         target: float = 1.0) -> Tensor:
        """WGAN-GP penalty E[(‖∇D(x̂)‖ − target)²] on random interpolates (harness.contract.penalties)."""

    def gradient_penalty_at(self, critic: Callable[..., Tensor], points: Tensor, *args: Tensor,
                            target: float = 1.0) -> Tensor:
        """E[(‖∇D(x̂)‖ − target)²] at the given points x̂, e.g. DRAGAN's perturbed real data
        (harness.contract.penalties)."""

    def r1_penalty(self, critic: Callable[..., Tensor], real: Tensor, *args: Tensor) -> Tensor:
        """R1 penalty E[‖∇D(x)‖²] on real data (harness.contract.penalties)."""

    def augment(self, images: Tensor, policy: str = "color,translation,cutout") -> Tensor:
        """DiffAugment (Zhao et al. 2020) of an image batch: the same differentiable random transforms the
        harness's ``train.tricks.diffaugment`` applies, drawn from this process's own seeded stream (restored
        on resume). Apply it to the real and the generated batch alike before D."""

    def input_gradient(self, outputs: Tensor, inputs: Tensor, weights: Tensor | None = None) -> Tensor:
        """∂(Σ outputs · weights)/∂inputs (``weights`` default 1), in float32, *with* a graph, so a loss built
        from it backpropagates to the networks (a double backward). ``inputs`` must require grad and
        ``outputs`` must depend on it: generator-side penalties differentiate G's output with respect to its
        latent, e.g. StyleGAN2's ∂⟨G(w), y⟩/∂w. Correct under fp16 (the scaled-gradient recipe)."""

    def path_length_penalty(self, images: Tensor, w: Tensor, key: str = "pl_mean", decay: float = 0.01) -> Tensor:
        """StyleGAN2's path-length penalty E[(‖J_wᵀ y‖ − a)²], y ~ N(0, I)/√(H·W), for generated ``images``
        and the latent ``w`` that produced them ((N, dim) or (N, layers, dim)). ``a`` is the moving average
        of ‖J_wᵀ y‖ kept in the plugin state under ``key`` (declare it in ``initial_state``, e.g. 0.0): the
        harness sets it to lerp(a, mean over processes of this batch's lengths, ``decay``) when the step is
        applied, so it is identical on every process and checkpointed. Multiply by the weight yourself."""

    def optimizer_state(self, module: nn.Module) -> dict[str, OptimizerState]:
        """The harness optimizers' current state for ``module``'s parameters, by the names
        ``module.named_parameters()`` gives (``nets.D`` as the step sees it): read-only copies, for a step
        that simulates the optimizer, e.g. Unrolled GAN's lookahead D continuing from D's real Adam moments
        as its authors' code does. Parameters no optimizer steps are left out."""

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

    def uniform(self, n: int, dim: int, low: float = -1.0, high: float = 1.0) -> Tensor: ...

    def categorical(self, n: int, k: int) -> Tensor: ...


StepFn = Callable[[Networks, Batch, StepContext], PhaseResult]
#: ``after_step(nets, result, ctx)``: runs under ``torch.no_grad()`` after an *applied* optimizer step
AfterStepFn = Callable[[Networks, PhaseResult, StepContext], None]
#: a named sample view: ``view(nets, ctx) -> (images, nrow)``, rendered as a grid of ``nrow`` columns
SampleView = Callable[[Networks, SampleContext], tuple[Tensor, int]]


@dataclass(frozen=True)
class Phase:
    """One kind of update in a training iteration.

    Each iteration runs every phase in order, ``repeats`` times each, drawing a fresh batch
    for each repeat. Only the optimizers of ``updates`` step; the other networks are frozen (no
    parameter gradients) while this phase runs.

    ``repeats`` may be a function of the completed iterations, ``repeats=lambda step: ...`` (WGAN's 100
    critic steps for the first 25 generator iterations); it returns an int >= 0, and 0 skips the phase in
    that iteration. For a phase that runs every k iterations, prefer ``every``, which the harness knows about.

    ``every``: an *interval phase* (StyleGAN2's lazy regularization): it runs only in the iterations whose
    index — the number of completed iterations, 0, 1, 2, … — is divisible by ``every`` (so in the first
    one, then every ``every``-th), with its own optimizer step, its own fp16 loss scaler and its own
    non-finite guard count. ``ctx.interval`` tells the step its ``every``, to weight a lazy penalty by it.

    ``optimizer``: the phase's own optimizer, built from this spec over the parameters of ``updates`` and
    checkpointed with the others; without it (the default, and StyleGAN2's choice) the phase steps the
    optimizers of ``GANPlugin.optimizers()`` that the networks' other phases step too — give those
    ``OptimizerSpec(lazy_interval=every)`` for StyleGAN2's learning-rate and β correction.

    Hooks, both under ``torch.no_grad()`` and only after a step the harness *applied* (never after a
    step skipped as non-finite or by the fp16 scaler): ``after_update(nets)`` (e.g. WGAN's weight
    clipping) and ``after_step(nets, result, ctx)``, which also sees the step's ``PhaseResult`` and
    is the one place to change plugin state (``ctx.state``, e.g. BEGAN's k_t). The loss's backward
    runs after the step function returns, so a step must not modify in place a tensor its loss used.

    ``keeps_graph``: networks this phase does not update but whose autograd graph it builds for a later
    phase of the same iteration (DCGAN's D step generates the fakes the G step reuses, ``ctx.stash``):
    they keep ``requires_grad`` here and get no gradient from this phase's loss (it must use ``fake.detach()``).
    """

    name: str
    step: StepFn
    updates: tuple[str, ...]
    repeats: int | Callable[[int], int] = 1
    after_update: Callable[[Networks], None] | None = None
    after_step: AfterStepFn | None = None
    keeps_graph: tuple[str, ...] = ()
    every: int = 1
    optimizer: OptimizerSpec | None = None

    def __post_init__(self) -> None:
        if not callable(self.repeats) and (not isinstance(self.repeats, int) or self.repeats < 1):
            raise ValueError(f"phase {self.name!r}: repeats must be an int >= 1 (or a function of the step), "
                             f"got {self.repeats!r}")
        if not isinstance(self.every, int) or isinstance(self.every, bool) or self.every < 1:
            raise ValueError(f"phase {self.name!r}: every must be an int >= 1, got {self.every!r}")
        if self.optimizer is not None and not isinstance(self.optimizer, OptimizerSpec):
            raise ValueError(f"phase {self.name!r}: optimizer must be an OptimizerSpec, "
                             f"got {type(self.optimizer).__name__}")
        if not self.updates:
            raise ValueError(f"phase {self.name!r} updates no network")

    def runs_at(self, step: int) -> bool:
        """Whether this phase runs in the iteration after ``step`` completed ones (``every`` divides it)."""
        return step % self.every == 0

    def repeats_at(self, step: int) -> int:
        """How many times this phase runs in the iteration after ``step`` completed ones (0: skipped)."""
        if not self.runs_at(step):
            return 0
        if not callable(self.repeats):
            return self.repeats
        count = self.repeats(step)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"phase {self.name!r}: repeats({step}) must be an int >= 0 (0 skips the phase in "
                             f"that iteration), got {count!r}")
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
    #: harness tricks this plugin refuses, trick name (a ``TricksConfig`` field) → reason; a run that
    #: asks for one is rejected when it is configured, with this reason (e.g. ``{"pack": "the Q head
    #: needs one code per sample"}``)
    unsupported_tricks: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: harness tricks whose effect this plugin also computes through the step context, and that it means to
    #: add to its own, trick name → why (e.g. ``{"r1_gamma": "WGAN-GP penalises interpolates; R1 on real data
    #: adds to it"}``). Without this declaration such a run stops at the first step with one line naming both
    #: (harness.train.conflicts): ``train.tricks.r1_gamma`` on a plugin that calls ``ctx.r1_penalty`` would
    #: otherwise apply R1 twice.
    composes_with: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: False when the discriminator has no per-sample scalar score (e.g. BEGAN's autoencoder): the
    #: harness then leaves the D-score diagnostics out instead of computing them from other outputs
    scalar_scores: ClassVar[bool] = True

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

    def initial_state(self) -> dict[str, float | Tensor]:
        """Training state that is not a weight (e.g. BEGAN's k_t), by name. The harness keeps it on the
        device as ``ctx.state[name]`` (floats become 0-d float32 tensors), checkpoints it, restores it on
        resume and NaN-guard rollback, and lets it change only in ``Phase.after_step``."""
        return {}

    def sample_views(self) -> Mapping[str, SampleView]:
        """Named structured sample grids, e.g. ``{"traversal": fn}`` with ``fn(nets, ctx) -> (images, nrow)``;
        rendered into samples/ at the end of a run, shown in report.md, and by ``ganzoo sample RUN --view NAME``."""
        return {}
