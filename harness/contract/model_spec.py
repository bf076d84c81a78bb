"""Typed descriptions shared by the harness and every plugin: what a model is, what data it sees.

Plugins import these from ``ganzoo.harness.plugin`` (``from ganzoo.harness.plugin import ModelSpec, ModelConfig, DataInfo``).
Everything here is pydantic, so a spec or config round-trips through JSON and a bad value
is reported with the field's name and the allowed range.
"""

from __future__ import annotations

import textwrap
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DataKind(str, Enum):
    """The kinds of data a plugin can train on."""

    points2d = "points2d"  # vectors in R^2 (the ring/grid mixtures)
    images = "images"  # C×H×W images in [-1, 1], optionally with class labels
    unpaired_images = "unpaired_images"  # two unaligned image domains A and B (CycleGAN)


class Family(str, Enum):
    """The objective family; used for filtering and to decide which tricks apply."""

    minimax = "minimax"  # Jensen–Shannon GAN objective (BCE), incl. non-saturating G
    wasserstein = "wasserstein"
    least_squares = "least_squares"
    hinge = "hinge"
    relativistic = "relativistic"
    cycle = "cycle"  # image-to-image translation with cycle consistency
    other = "other"


class ModelSpec(BaseModel):
    """Who a plugin is: shown by ``ganzoo list``/``show`` and checked at discovery."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40, description="CLI name, e.g. 'wgan-gp'")
    title: str = Field(min_length=1, description="Human-readable title")
    paper: str = Field(min_length=1, description="Citation: authors, year, title")
    arxiv: str | None = Field(default=None, pattern=r"^\d{4}\.\d{4,5}$", description="arXiv id, e.g. 1704.00028")
    family: Family
    data_kinds: frozenset[DataKind] = Field(min_length=1, description="Data kinds the plugin can train on")
    conditional: bool = Field(default=False, description="True if G and D take class labels")
    default_dataset: str = Field(description="Dataset used when `ganzoo run` is given none")
    deviations: tuple[str, ...] = Field(
        default=(), description="Where this implementation departs from its paper, one sentence each")

    @field_validator("data_kinds", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return frozenset(value) if isinstance(value, (list, tuple, set)) else value

    def with_deviations(self, doc: str | None) -> str:
        """``doc`` followed by the rendering of :attr:`deviations` ("Deviations from the paper:" and one
        ``- …`` item each), so a model's docstring shows them (``help()``, pydoc) while they are written once,
        here. A plugin module ends with ``__doc__ = MyGAN.spec.with_deviations(__doc__)``; without
        deviations ``doc`` comes back unchanged."""
        if not self.deviations:
            return doc or ""
        doc = (doc or "").rstrip()
        items = [textwrap.fill(" ".join(d.split()), width=100, initial_indent="- ", subsequent_indent="  ",
                               break_long_words=False, break_on_hyphens=False) for d in self.deviations]
        return (doc + "\n\n" if doc else "") + "Deviations from the paper:\n" + "\n".join(items) + "\n"


class ModelConfig(BaseModel):
    """Base for every plugin's hyper-parameters: unknown keys are errors, assignments re-validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DataInfo(BaseModel):
    """What a plugin may know about the data when it builds its networks.

    ``shape`` is one sample's shape: ``(2,)`` for points, ``(C, H, W)`` for images.
    Values of image data are in ``value_range``; points are unbounded.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: DataKind
    shape: tuple[int, ...]
    num_classes: int | None = None
    value_range: tuple[float, float] | None = (-1.0, 1.0)
    pack: int = Field(default=1, ge=1, description="PacGAN packing degree: D sees `pack` samples at once")

    @property
    def channels(self) -> int:
        return self.shape[0]

    @property
    def resolution(self) -> int:
        if self.kind == DataKind.points2d:
            raise ValueError("points have no resolution")
        return self.shape[-1]
