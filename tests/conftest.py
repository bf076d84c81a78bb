"""Shared fixtures: quiet deterministic torch, the shared data folder, installed test distributions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from ganzoo.harness.contract import registry

from .distributions import install_distribution

REPO = Path(__file__).resolve().parents[1]
#: ../shared/data beside the checkout, or beside a folder above it (a git worktree one level deeper);
#: GANZOO_SHARED_DATA points elsewhere
SHARED_DATA = Path(os.environ.get("GANZOO_SHARED_DATA") or next(
    (folder / "shared" / "data" for folder in REPO.parents if (folder / "shared" / "data").is_dir()),
    REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    torch.set_num_threads(1)  # tiny models: one thread is fastest and immune to a busy machine


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never write into the user's cache; keep decoded datasets for the whole session."""
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path_factory.getbasetemp() / "ganzoo-cache"))


@pytest.fixture(scope="session")  # a path (or a skip): module fixtures that train on it may use it
def shared_data() -> Path:
    if not (SHARED_DATA / "mnist").exists():
        pytest.skip(f"the shared data folder {SHARED_DATA} is missing (CI and developer machines have it)")
    return SHARED_DATA


@pytest.fixture
def plugin_site(tmp_path, monkeypatch):
    """A site directory on sys.path where tests install real distributions (dist-info + entry points)."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    registry.clear_cache()

    def install(dist_name: str, entry_points: dict[str, str], modules: dict[str, str] | None = None) -> Path:
        install_distribution(site, dist_name, entry_points, modules or {})
        registry.clear_cache()
        return site

    yield install
    registry.clear_cache()


#: tests that start gloo process groups (data-parallel checks and runs). Under ``pytest -n`` they share one
#: xdist group, so two groups never form at once on the machine (``--dist loadgroup``, the README's command);
#: everything else spreads over the workers.
PROCESS_GROUP_TESTS = (
    "tests/check/test_conformance.py::",
    "tests/check/test_lazy_regularization_example.py::",
    "tests/train/test_distributed.py::",
    "tests/cli/test_runs.py::test_a_killed_worker_is_named_with_the_last_checkpoint_and_the_resume_command",
    "tests/suites/test_suites.py::test_throughput_suite_times_each_precision_and_process_count",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(PROCESS_GROUP_TESTS):
            item.add_marker(pytest.mark.xdist_group("process-groups"))
