"""The resume check: train half the steps, checkpoint, resume to the end, and compare with the
uninterrupted run bit for bit (networks, EMA, optimizer state, the step context's noise, the data
order). It catches state a plugin keeps outside what the harness checkpoints; when the two runs
differ it trains once more to tell irreproducible training from lost state.
"""

from __future__ import annotations

import math
from typing import Any

from .monitor import ContractViolation
from .session import CheckSession, Fail, Skip, error_text


def _first_difference(a: Any, b: Any, path: str) -> str | None:
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return f"{path}: shape/dtype {tuple(a.shape)}/{a.dtype} vs {tuple(b.shape)}/{b.dtype}"
        if torch.equal(a, b):
            return None
        if a.is_floating_point():
            delta = (a.double() - b.double()).abs().nan_to_num(nan=math.inf).max().item()
            return f"{path} (max |Δ| = {delta:.3g})"
        return path
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys differ"
        for key in a:
            found = _first_difference(a[key], b[key], f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path} ({a!r} vs {b!r})"


def training_state_difference(a: Any, b: Any) -> str | None:
    """The first place where two runs' states differ (networks, EMA, optimizers, noise, data order): two
    ``RunState`` values (``trainer.state``), or two trainers (they read the same by the same names)."""
    if a.step != b.step:
        return f"step counter ({a.step} vs {b.step})"
    for name in a.nets:
        found = _first_difference(a.nets[name].state_dict(), b.nets[name].state_dict(), f"network {name}")
        if found:
            return found
    if a.ema is not None and b.ema is not None:
        found = _first_difference(a.ema.state_dict(), b.ema.state_dict(), "EMA")
        if found:
            return found
    for name in a.optimizers:
        found = _first_difference(a.optimizers[name].state_dict()["state"], b.optimizers[name].state_dict()["state"],
                                  f"optimizer of {name}")
        if found:
            return found
    found = _first_difference(dict(a.ctx.state), dict(b.ctx.state), "the plugin state (ctx.state)")
    if found:
        return found
    found = _first_difference(a.rates.plateau_state(), b.rates.plateau_state(), "the plateau schedules")
    if found:
        return found
    found = _first_difference(a.ctx.generator.get_state(), b.ctx.generator.get_state(), "the step context's noise")
    return found or _first_difference(a.source.state_dict(), b.source.state_dict(), "the data order")


def check_resume(session: CheckSession) -> str:
    session.need_run()
    session.need_contract()
    session.need_intervals()
    steps = session.run.train.steps
    if steps < 2:
        raise Fail(f"train.steps = {steps}: the resume check needs at least 2 steps")
    whole, error = session.fp32_run()
    if error is not None:
        raise Skip("the uninterrupted fp32 run failed (see fp32)")
    half = steps // 2
    path = session.fresh_dir("resume")
    try:
        session.fit(session.trainer("fp32", half, path))
        resumed = session.trainer("fp32", steps, path, resume=True)
        session.fit(resumed)
    except ContractViolation as caught:
        raise Fail(str(caught)) from None
    except Exception as caught:  # noqa: BLE001
        raise Fail(f"checkpoint at step {half} then resume failed: {error_text(caught)}") from None
    difference = training_state_difference(whole.state, resumed.state)
    if difference is None:
        return f"{half} steps + checkpoint + resume to {steps} = {steps} uninterrupted steps, bit for bit"
    again = session.trainer("fp32", steps, session.fresh_dir("fp32-again"))
    session.fit(again)
    repeat = training_state_difference(whole.state, again.state)
    if repeat is not None:
        raise Fail(f"training is not reproducible: two uninterrupted runs with seed {session.run.train.seed} differ "
                   f"in {repeat}; draw randomness from the step context (ctx.latent, ctx.random_labels) and keep "
                   "no state outside the networks")
    raise Fail(f"resumed run differs from the uninterrupted one in {difference} (checkpoint at step {half} of "
               f"{steps}): state the plugin keeps outside its networks and optimizers (attributes set during "
               "training, tensors that are not parameters or buffers) is not checkpointed; keep it in "
               "GANPlugin.initial_state() / ctx.state")
