"""Stability diagnostics and the early-warning rules built on them.

Measured on log iterations only (the hot loop stays lean), per network and per phase:

* ``NET/grad_norm`` (before clipping), ``NET/weight_norm``;
* ``PHASE/d_real_mean``, ``PHASE/d_fake_mean``; real/fake accuracy ``PHASE/accuracy_real|fake``
  (sign of the logits for minimax and hinge losses, threshold 0.5 for least squares — not
  defined for Wasserstein critics); ``PHASE/p_fake`` = E[σ(D(G(z)))] for minimax;
  ``PHASE/r_t`` = E[sign(D(x))], the ADA overfitting heuristic (Karras et al. 2020, arXiv 2006.06676);
* ``PHASE/loss_sem`` (standard error of the loss over the logging window; absent when the window holds one
  step, as with ``train.log_every=1``), ``PHASE/loss_scale`` (fp16);
* optionally ``spectral/NET/LAYER``: power-iteration estimates of each discriminator layer's
  largest singular value (``train.spectral_diagnostics``).

The rules read the run's records (the lines of ``metrics.jsonl``) and return plain-language
warnings; each rule is one small function, so each can be tested on synthetic records.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

# -- measurements ----------------------------------------------------------------------------------
#: decision threshold on the discriminator's raw output, by loss family (None: accuracy undefined)
ACCURACY_THRESHOLD = {"minimax": 0.0, "hinge": 0.0, "least_squares": 0.5, "cycle": 0.5}  # cycle: LSGAN targets


@torch.no_grad()
def discriminator_stats(family: str, d_real: Tensor | None, d_fake: Tensor | None) -> dict[str, float]:
    """Means, accuracies, p_fake and r_t from a phase's discriminator outputs (one host sync)."""
    threshold = ACCURACY_THRESHOLD.get(family)
    names, values = [], []
    if d_real is not None:
        real = d_real.detach().float().reshape(-1)
        names += ["d_real_mean", "r_t"]
        values += [real.mean(), (real - (threshold or 0.0)).sign().mean()]
        if threshold is not None:
            names.append("accuracy_real")
            values.append((real > threshold).float().mean())
    if d_fake is not None:
        fake = d_fake.detach().float().reshape(-1)
        names.append("d_fake_mean")
        values.append(fake.mean())
        if threshold is not None:
            names.append("accuracy_fake")
            values.append((fake < threshold).float().mean())
        if family == "minimax":
            names.append("p_fake")
            values.append(torch.sigmoid(fake).mean())
    if not values:
        return {}
    return dict(zip(names, torch.stack(values).tolist()))


@torch.no_grad()
def weight_norm(module: nn.Module) -> float:
    params = [p.detach() for p in module.parameters()]
    if not params:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(params))))


class SpectralEstimator:
    """Largest singular value of each weight matrix (conv kernels reshaped to out × rest), by power
    iteration with persistent vectors (Miyato et al. 2018, arXiv 1802.05957). Uses its own random
    generator, so switching it on never changes a run's random streams."""

    LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
              nn.ConvTranspose3d, nn.Embedding)

    def __init__(self, nets: dict[str, nn.Module], names: Sequence[str]) -> None:
        self.layers: list[tuple[str, nn.Module]] = []
        for net in names:
            for name, module in nets[net].named_modules():
                if isinstance(module, self.LAYERS):
                    self.layers.append((f"{net}/{name or 'self'}", module))
        self.vectors: dict[str, Tensor] = {}
        self.generator = torch.Generator().manual_seed(0)

    @torch.no_grad()
    def estimate(self, iterations: int = 2) -> dict[str, float]:
        sigmas = []
        for label, module in self.layers:
            weight = module.weight.detach().float()
            if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
                weight = weight.transpose(0, 1)
            matrix = weight.reshape(weight.shape[0], -1)
            u = self.vectors.get(label)
            if u is None:
                u = torch.randn(matrix.shape[0], generator=self.generator).to(matrix.device)
                u = u / u.norm().clamp_min(1e-12)
                iterations_here = max(iterations, 10)  # first estimate: converge from a random start
            else:
                iterations_here = iterations
            for _ in range(iterations_here):
                v = matrix.t() @ u
                v = v / v.norm().clamp_min(1e-12)
                u = matrix @ v
                u = u / u.norm().clamp_min(1e-12)
            self.vectors[label] = u
            sigmas.append(u @ (matrix @ v))
        if not sigmas:
            return {}
        return {f"spectral/{label}": value for (label, _), value in zip(self.layers, torch.stack(sigmas).tolist())}


# -- early-warning rules -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleContext:
    """What the rules need to know about the plugin: loss family and who updates what."""

    family: str
    discriminator_phases: tuple[str, ...] = ()
    generator_phases: tuple[str, ...] = ()
    generators: tuple[str, ...] = ("G",)
    discriminators: tuple[str, ...] = ("D",)


@dataclass(frozen=True)
class TrainingWarning:
    code: str
    step: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Rule = Callable[[list[dict[str, Any]], RuleContext], "TrainingWarning | None"]


def _training(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in history if "losses" in r]


def _series(records: list[dict[str, Any]], section: str, key: str) -> list[float]:
    values = []
    for record in records:
        value = record.get(section, {}).get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            values.append(float(value))
    return values


def discriminator_wins(history: list[dict[str, Any]], ctx: RuleContext, window: int = 3) -> TrainingWarning | None:
    """D separates real from fake perfectly (D(fake) → 0) for `window` records, or G's gradients vanish."""
    records = _training(history)
    if len(records) < window:
        return None
    recent, step = records[-window:], records[-1]["step"]
    for phase in ctx.discriminator_phases:
        real = _series(recent, "diagnostics", f"{phase}/accuracy_real")
        fake = _series(recent, "diagnostics", f"{phase}/accuracy_fake")
        p_fake = _series(recent, "diagnostics", f"{phase}/p_fake")
        perfect = len(real) == window and len(fake) == window and min(real + fake) >= 0.99
        confident = len(p_fake) == window and max(p_fake) < 0.02
        if perfect or confident:
            detail = f"D(fake) ≈ {p_fake[-1]:.3f}" if p_fake else "100% real/fake accuracy"
            return TrainingWarning("discriminator_wins", step, (
                f"the discriminator is winning since step {recent[0]['step']} ({detail} in phase {phase!r}): the "
                "generator gets almost no useful gradient. Try a lower discriminator learning rate or fewer "
                "discriminator steps, label smoothing or instance noise, or a non-saturating/Wasserstein loss."))
    for net in ctx.generators:
        norms = _series(records, "diagnostics", f"{net}/grad_norm")
        if len(norms) >= window + 2 and max(norms[-window:]) < 1e-3 * max(norms[:-window]):
            return TrainingWarning("discriminator_wins", step, (
                f"the generator's gradients are vanishing: {net}'s gradient norm fell from {max(norms[:-window]):.3g} "
                f"to {norms[-1]:.3g}. The discriminator is probably saturated; try a non-saturating or "
                "Wasserstein loss, or weaken the discriminator."))
    return None


def divergence(history: list[dict[str, Any]], ctx: RuleContext, factor: float = 100.0) -> TrainingWarning | None:
    """A loss far above its usual size, or weights that grew tenfold: the run is blowing up."""
    records = _training(history)
    if len(records) < 4:
        return None
    last, earlier, step = records[-1], records[:-1], records[-1]["step"]
    for key, value in last.get("losses", {}).items():
        if not key.endswith("/loss") or not isinstance(value, (int, float)):
            continue
        past = [abs(v) for v in _series(earlier, "losses", key)]
        if len(past) < 3:
            continue
        usual = max(statistics.median(past), 1.0)
        if not math.isfinite(value) or abs(value) > factor * usual:
            return TrainingWarning("divergence", step, (
                f"{key} is {value:.4g}, over {factor:.0f}× its usual size ({statistics.median(past):.3g}): training "
                "is diverging. Lower the learning rates, clip gradients (train.grad_clip) or add a penalty."))
    for key, value in last.get("diagnostics", {}).items():
        if not key.endswith("/weight_norm"):
            continue
        first = _series(earlier, "diagnostics", key)
        if first and first[0] > 0 and value > 10 * first[0]:
            return TrainingWarning("divergence", step, (
                f"{key.split('/')[0]}'s weights grew from norm {first[0]:.3g} to {value:.3g}: training is "
                "diverging. Lower the learning rate or add weight decay / spectral normalisation."))
    return None


def oscillation(history: list[dict[str, Any]], ctx: RuleContext, window: int = 16) -> TrainingWarning | None:
    """A phase's loss swings back and forth across its median by far more than its noise."""
    records = _training(history)
    if len(records) < window:
        return None
    recent, step = records[-window:], records[-1]["step"]
    for phase in ctx.discriminator_phases + ctx.generator_phases:
        values = _series(recent, "losses", f"{phase}/loss")
        # the noise is the loss's standard error within a log interval; an interval of one step has none
        # (train.log_every=1), and without it a swing cannot be told from noise: no warning then
        sems = [sem for sem in _series(recent, "diagnostics", f"{phase}/loss_sem") if sem > 0]
        if len(values) < window or len(sems) < window // 2:
            continue
        middle = statistics.median(values)
        signs = [v > middle for v in values]
        crossings = sum(a != b for a, b in zip(signs, signs[1:]))
        swing = statistics.fmean(abs(v - middle) for v in values)
        noise = statistics.median(sems)
        if crossings >= 4 and swing > 5 * noise:
            return TrainingWarning("oscillation", step, (
                f"the {phase} loss oscillates: it crossed its median {crossings} times in the last {window} records "
                f"with swings of ±{swing:.3g}, {swing / noise:.0f}× its noise. G and D may be chasing each other; "
                "try lower learning rates, a two-time-scale update (TTUR) or generator EMA (train.ema_decay)."))
    return None


def mode_coverage_falling(history: list[dict[str, Any]], ctx: RuleContext) -> TrainingWarning | None:
    """Evaluation shows fewer modes (or a higher reverse KL) than the best seen earlier."""
    evaluations = [r for r in history if isinstance(r.get("metrics"), dict) and r["metrics"]]
    if len(evaluations) < 2:
        return None
    last = evaluations[-1]
    modes = [(r["step"], r["metrics"]["modes_captured"]) for r in evaluations
             if isinstance(r["metrics"].get("modes_captured"), (int, float))]
    if len(modes) >= 2:
        best_step, best = max(modes[:-1], key=lambda item: item[1])
        now = modes[-1][1]
        if best - now >= max(2, math.ceil(0.1 * best)):
            return TrainingWarning("mode_coverage_falling", last["step"], (
                f"mode coverage is falling: {best:g} modes at step {best_step}, {now:g} now. The generator is "
                "collapsing; the best checkpoint is kept (train.best_metric), and generator EMA, PacGAN packing "
                "or a lower generator learning rate may help."))
    kls = [(r["step"], r["metrics"]["reverse_kl"]) for r in evaluations
           if isinstance(r["metrics"].get("reverse_kl"), (int, float)) and math.isfinite(r["metrics"]["reverse_kl"])]
    if len(kls) >= 2 and kls[-1][0] == last["step"]:
        best_step, best = min(kls[:-1], key=lambda item: item[1])
        now = kls[-1][1]
        if now > best + max(0.2, best):
            return TrainingWarning("mode_coverage_falling", last["step"], (
                f"mode coverage is falling: reverse KL rose from {best:.3g} (step {best_step}) to {now:.3g}; the "
                "generator is dropping modes or favouring a few."))
    return None


def skipped_steps(history: list[dict[str, Any]], ctx: RuleContext) -> TrainingWarning | None:
    """Steps skipped for non-finite values (or many fp16 overflows)."""
    records = [r for r in history if "counters" in r]
    if not records:
        return None
    last = records[-1]
    counters, step = last["counters"], last["step"]
    nonfinite = {k: v for k, v in counters.items() if "nonfinite" in k and v}
    if nonfinite:
        listing = ", ".join(f"{k} {v}" for k, v in sorted(nonfinite.items()))
        return TrainingWarning("non_finite", step, (
            f"non-finite losses or gradients: steps were skipped ({listing}). If this keeps happening the run rolls "
            "back or stops (train.nan_policy)."))
    amp = sum(v for k, v in counters.items() if k.endswith("amp_skipped"))
    if step >= 100 and amp > 0.1 * step:
        return TrainingWarning("fp16_overflow", step, (
            f"fp16 overflow skipped {amp} optimizer steps in {step} iterations; bf16 (if the device has it) "
            "or fp32 avoids this."))
    return None


RULES: tuple[Rule, ...] = (discriminator_wins, divergence, oscillation, mode_coverage_falling, skipped_steps)


@dataclass
class EarlyWarnings:
    """Runs the rules on every new record; each kind of warning is issued once."""

    context: RuleContext
    rules: tuple[Rule, ...] = RULES
    issued: list[TrainingWarning] = field(default_factory=list)

    def check(self, history: list[dict[str, Any]]) -> list[TrainingWarning]:
        seen = {w.code for w in self.issued}
        new = []
        for rule in self.rules:
            warning = rule(history, self.context)
            if warning is not None and warning.code not in seen:
                seen.add(warning.code)
                new.append(warning)
        self.issued += new
        return new

    def state_dict(self) -> list[dict[str, Any]]:
        return [w.as_dict() for w in self.issued]

    def load_state_dict(self, state: list[dict[str, Any]]) -> None:
        self.issued = [TrainingWarning(**w) for w in state]
