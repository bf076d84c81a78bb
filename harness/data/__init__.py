"""Datasets by name. ``open_dataset("ring", ...)``; see ``harness.data.catalog``."""

from .base import DataSource
from ..contract.errors import DataError
from .catalog import DATASETS, open_dataset

__all__ = ["DATASETS", "DataError", "DataSource", "open_dataset"]
