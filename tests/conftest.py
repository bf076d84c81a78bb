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
