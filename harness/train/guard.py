"""The non-finite guard: skip bad steps, and after too many in a row roll back or stop.

A step whose loss or any updated gradient is inf/NaN is skipped (no optimizer step) and
counted (``PHASE/nonfinite_loss``, ``PHASE/nonfinite_grad``). When one phase has
``train.nan_patience`` bad steps in a row, ``train.nan_policy`` decides: ``rollback`` restores
the last good checkpoint with every learning rate multiplied by ``train.nan_lr_factor`` (at
most ``train.max_rollbacks`` times), ``stop`` ends the run with a report naming the phase, the
step and the first non-finite tensor.

Under fp16 an inf gradient is first the GradScaler's business (it skips the step and halves
the scale); such a skip counts as a bad step here only once the scale has fallen to 1 or
below, where no overflow of the scaling can explain it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..contract.errors import NonFiniteStop


@dataclass(frozen=True)
class NonFiniteEvent:
    phase: str
    step: int  # the iteration being run (1-based: step N is the N-th iteration)
    tensor: str  # 'loss', 'loss (gradient_penalty)', 'D.net.0.weight.grad', …

    def describe(self) -> str:
        return f"phase {self.phase!r} at step {self.step}: {self.tensor} is not finite"


class RollbackRequest(Exception):
    """Raised inside a phase; the loop restores the last good state and lowers the learning rates."""

    def __init__(self, event: NonFiniteEvent) -> None:
        super().__init__(event.describe())
        self.event = event


class NonFiniteGuard:
    def __init__(self, patience: int, policy: Literal["rollback", "stop"], max_rollbacks: int) -> None:
        self.patience = patience
        self.policy = policy
        self.max_rollbacks = max_rollbacks
        self.rollbacks = 0
        self.in_a_row: dict[str, int] = {}
        self.events: list[NonFiniteEvent] = []  # the first few, for the report

    def good(self, phase: str) -> None:
        if self.in_a_row.get(phase):
            self.in_a_row[phase] = 0

    def bad(self, event: NonFiniteEvent) -> None:
        """Record a skipped step; raise RollbackRequest or NonFiniteStop when patience runs out."""
        if len(self.events) < 20:
            self.events.append(event)
        count = self.in_a_row.get(event.phase, 0) + 1
        self.in_a_row[event.phase] = count
        if count < self.patience:
            return
        self.in_a_row[event.phase] = 0
        if self.policy == "rollback" and self.rollbacks < self.max_rollbacks:
            self.rollbacks += 1
            raise RollbackRequest(event)
        why = (f"after {self.rollbacks} rollback(s) with lowered learning rates" if self.policy == "rollback"
               else "train.nan_policy is 'stop'")
        first = self.events[0]
        raise NonFiniteStop(
            f"training stopped: {count} non-finite steps in a row in phase {event.phase!r} ({why}). "
            f"Last: step {event.step}, {event.tensor} is not finite; first seen at step {first.step} in phase "
            f"{first.phase!r} ({first.tensor}). Try a lower learning rate, gradient clipping (train.grad_clip), "
            "or fp32 precision", event)

    def state_dict(self) -> dict:
        return {"rollbacks": self.rollbacks}

    def load_state_dict(self, state: dict) -> None:
        self.rollbacks = int(state.get("rollbacks", 0))
