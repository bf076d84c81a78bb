"""Tricks that would double what a plugin already does: a harness trick whose effect the plugin also
computes through the step context stops the run at its first step, with one line naming both.

``train.tricks.r1_gamma`` adds the harness's R1 penalty to the discriminator; a plugin that calls
``ctx.r1_penalty`` (its own, e.g. lazy, R1) or another input-gradient penalty of D
(``ctx.gradient_penalty``, ``ctx.gradient_penalty_at``) would get both, silently; likewise
``train.tricks.diffaugment`` and a plugin that augments D's inputs itself with ``ctx.augment``. The plugin settles it
with one declaration: ``unsupported_tricks = {"r1_gamma": "why"}`` refuses the trick when the run is
configured; ``composes_with = {"r1_gamma": "why"}`` says the two are meant to add up (WGAN-GP's penalty
at interpolates plus R1 at real data) and lets the run go on.

Detection happens while the run trains, from what the step context records of each plugin phase step
(``TrainingContext.used``); the harness's own phases (lazy R1) are not the plugin's and are not watched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ..contract.errors import TrickConflictError
from ..contract.gan_plugin import GANPlugin, Phase
from ..contract.tricks_config import TricksConfig, active_tricks

#: harness trick → the step-context helpers that compute the same kind of effect in the plugin
OVERLAPS: Mapping[str, tuple[str, ...]] = {
    "r1_gamma": ("r1_penalty", "gradient_penalty", "gradient_penalty_at"),
    "diffaugment": ("augment",),
}

#: what each trick does, for the message
EFFECTS: Mapping[str, str] = {
    "r1_gamma": "adds the harness's R1 penalty to every discriminator update",
    "diffaugment": "augments every image the discriminator sees",
}


#: what would apply twice, for the message
TWICE: Mapping[str, str] = {"r1_gamma": "the penalty", "diffaugment": "the augmentation"}


def conflict_message(model: str, trick: str, value: object, phase: str, helpers: Collection[str]) -> str:
    calls = ", ".join(f"ctx.{name}" for name in sorted(helpers))
    return (f"train.tricks.{trick}={value} {EFFECTS[trick]}, and {model}'s phase {phase!r} computes its own with "
            f"{calls}: {TWICE[trick]} would apply twice. Drop the setting, refuse it in the plugin "
            f"(unsupported_tricks = {{\"{trick}\": \"<reason>\"}}), or declare that the two add up "
            f"(composes_with = {{\"{trick}\": \"<reason>\"}})")


class ConflictWatch:
    """Checks each plugin phase step's context calls against the active tricks (see the module docstring)."""

    def __init__(self, plugin: GANPlugin, tricks: TricksConfig, harness_phases: Collection[str] = ()) -> None:
        composes = getattr(plugin, "composes_with", {}) or {}
        self.model = plugin.spec.name
        self.tricks = tricks
        self.harness_phases = set(harness_phases)
        self.watched = {trick: set(helpers) for trick, helpers in OVERLAPS.items()
                        if trick in active_tricks(tricks) and trick not in composes}

    def check(self, phase: Phase, used: Collection[str]) -> None:
        if not self.watched or not used or phase.name in self.harness_phases:
            return
        for trick, helpers in self.watched.items():
            hit = helpers & set(used)
            if hit:
                raise TrickConflictError(conflict_message(self.model, trick, getattr(self.tricks, trick), phase.name,
                                                          hit))
