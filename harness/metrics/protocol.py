"""How a number was measured, recorded beside the number so that only like is compared with like.

An FID from Inception pool3 on 50k samples and one from the MNIST CNN on 10k are different
quantities; so are KIDs with different subset sizes. Every ``MetricValue`` carries its ``Protocol``;
``Protocol.key()`` hashes all of its fields, so a report can put values in one column only when the
keys agree, and ordering two values with different keys raises ``MetricError``.

The identity a protocol records for weights and data files is their sha256 (:func:`file_sha256`);
what the harness computes once and reuses (classifier weights, feature statistics) lives under
:func:`default_cache_dir`.
"""

from __future__ import annotations

import hashlib
import json
import operator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..contract.errors import MetricError


class Protocol(BaseModel):
    """Everything that changes the value of a metric besides the two sample sets themselves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(description="the quantity, e.g. 'fid', 'kid', 'precision'")
    extractor: str | None = Field(None, description="feature extractor or classifier, e.g. 'inception', 'mnist-cnn'")
    weights_sha256: str | None = Field(None, description="sha256 of the extractor's weights file")
    resize: str | None = Field(None, description="how images were brought to the extractor's input size")
    n_real: int | None = Field(None, ge=0, description="reference samples used")
    n_fake: int | None = Field(None, ge=0, description="generated samples used")
    reference_split: str | None = Field(None, description="which real data, e.g. 'test (held-out 2000)'")
    dtype: str = Field("float64", description="precision of statistics, kernels, distances, sqrtm")
    seed: int | None = Field(None, description="seed of any subsampling/shuffling inside the metric")
    k: int | None = Field(None, ge=1, description="nearest neighbours (precision/recall/density/coverage)")
    subset_size: int | None = Field(None, ge=2, description="KID subset size")
    subsets: int | None = Field(None, ge=1, description="KID subsets")
    splits: int | None = Field(None, ge=1, description="Inception Score splits")

    def key(self) -> str:
        """Stable 16-hex-digit hash of all fields: equal keys ⇔ comparable values."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class MetricValue(BaseModel):
    """One number (and its spread where the metric has one) with the protocol that produced it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    std: float | None = None
    protocol: Protocol

    def comparable(self, other: MetricValue) -> bool:
        return self.protocol.key() == other.protocol.key()

    def _compare(self, other: object, op) -> bool:
        if not isinstance(other, MetricValue):
            return NotImplemented
        if not self.comparable(other):
            raise MetricError(f"{self.protocol.metric} values measured under different protocols are not comparable: "
                              f"{self.protocol.model_dump(exclude_defaults=True)} vs "
                              f"{other.protocol.model_dump(exclude_defaults=True)}")
        return op(self.value, other.value)

    def __lt__(self, other: object) -> bool:
        return self._compare(other, operator.lt)

    def __le__(self, other: object) -> bool:
        return self._compare(other, operator.le)

    def __gt__(self, other: object) -> bool:
        return self._compare(other, operator.gt)

    def __ge__(self, other: object) -> bool:
        return self._compare(other, operator.ge)


def default_cache_dir() -> Path:
    """The one ganzoo cache root (``harness.data.storage.cache_root``); CI can persist it between runs."""
    from ..data.storage import cache_root

    return cache_root()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes: the identity we record for weights and data files."""
    from ..data.storage import file_digest

    return file_digest(path, "sha256")
