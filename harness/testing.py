"""``pytest -p ganzoo.harness.testing``: the conformance pytest plugin for a bare source checkout.
Installed ganzoo registers ``harness.check.pytest_plugin`` under this name through its entry point."""

from .check.pytest_plugin import (ConformanceFailure, ConformanceItem, ConformanceWarning, ganzoo_conformance,
                                  pytest_addoption, pytest_collection_modifyitems, pytest_report_header)

__all__ = ["ConformanceFailure", "ConformanceItem", "ConformanceWarning", "ganzoo_conformance", "pytest_addoption",
           "pytest_collection_modifyitems", "pytest_report_header"]
