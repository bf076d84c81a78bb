"""Kept for plugins written against ganzoo 0.1 (``from ganzoo.harness.spec import ModelSpec``).
New code imports from ``ganzoo.harness.plugin``."""

from .contract.model_spec import DataInfo, DataKind, Family, ModelConfig, ModelSpec

__all__ = ["DataInfo", "DataKind", "Family", "ModelConfig", "ModelSpec"]
