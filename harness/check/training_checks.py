"""The training checks: ``fp32`` and ``bf16``. A few real training steps through the harness's
trainer (its phases, loss scaling and guards), after which every parameter and every logged loss
must be finite. The fp32 run is the session's shared one, which the contract and resume checks reuse.
"""

from __future__ import annotations

import math

from .monitor import ContractViolation
from .session import CheckSession, Fail, error_text


def train_in(session: CheckSession, precision: str) -> str:
    """Train the check's steps in ``precision``; the detail names the steps and the last losses."""
    import torch

    from ..contract.errors import NonFiniteStop

    session.need_run()
    session.need_contract()
    session.need_intervals()
    if precision == "fp32":
        trainer, error = session.fp32_run()
    else:
        trainer, error = None, None
        try:
            trainer = session.trainer(precision, session.run.train.steps, session.fresh_dir(precision))
            session.fit(trainer)
        except Exception as caught:  # noqa: BLE001
            error = caught
    if isinstance(error, ContractViolation):
        raise Fail(str(error))
    if isinstance(error, NonFiniteStop):
        raise Fail(f"not finite in {precision}: {error}")
    if error is not None:
        raise Fail(f"training in {precision} failed: {error_text(error)}")
    run = trainer.state
    for name, net in run.nets.items():
        for key, p in net.named_parameters():
            if not torch.isfinite(p).all():
                raise Fail(f"{name}.{key} is not finite after {run.step} steps in {precision}")
    losses = {}
    for record in run.history:
        losses.update({k.removesuffix("/loss"): v for k, v in record.get("losses", {}).items()
                       if k.endswith("/loss")})
    bad = [k for k, v in losses.items() if not math.isfinite(v)]
    if bad:
        raise Fail(f"losses {bad} are not finite in {precision}")
    shown = ", ".join(f"{k} {v:.4g}" for k, v in losses.items())
    calls = run.phase_calls
    never = [name for name in session.intervals or {} if not calls.get(name)]
    if never:
        raise Fail(f"interval phase(s) {never} never ran in {run.step} steps in {precision}")
    ran = "; interval phases: " + ", ".join(f"{name} every {every} ran {calls.get(name, 0)}×"
                                            for name, every in session.intervals.items()) if session.intervals else ""
    return (f"{run.step} steps × batch {session.run.train.batch_size}{session.interval_note}; last losses: "
            f"{shown or 'none logged'}{ran}")


def check_fp32(session: CheckSession) -> str:
    return train_in(session, "fp32")


def check_bf16(session: CheckSession) -> str:
    return train_in(session, "bf16")
