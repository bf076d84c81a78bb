"""The installed layout: every package folder is listed in pyproject.toml; `ganzoo` is a light regular package
that exposes the Python API; a built wheel imports `ganzoo`, `ganzoo.harness` and `ganzoo.zoo` like the editable
install does."""

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_of(folder: Path) -> str:
    """The package a folder installs as: the longest package-dir entry above it, plus the rest of its path."""
    mapping = {REPO / path: name for name, path in SETUPTOOLS["package-dir"].items()}
    for root in sorted(mapping, key=lambda p: len(p.parts), reverse=True):
        if folder == root or root in folder.parents:
            return ".".join([mapping[root], *folder.relative_to(root).parts])
    raise AssertionError(f"{folder} is under no package-dir entry of pyproject.toml")


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(SETUPTOOLS["packages"])
    for top in ("harness", "zoo"):
        for init in (REPO / top).rglob("__init__.py"):
            package = _package_of(init.parent)
            assert package in listed, f"{package} ({init.parent}) is missing from [tool.setuptools] packages"


def test_registry_toml_is_package_data_and_the_top_level_file_links_to_it():
    """A wheel holds only package data: the presets live in ganzoo.harness; the checkout's
    top-level registry.toml (the product owner's layout) is a link to that one file."""
    from ganzoo.harness.contract.presets import registry_path

    assert registry_path() == REPO / "harness" / "registry.toml"
    assert (REPO / "registry.toml").resolve() == registry_path().resolve()
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"registry.toml"' in pyproject.split("[tool.setuptools.package-data]")[1].split("[tool.pytest")[0]


def test_ganzoo_is_a_light_regular_package_whose_names_are_the_api():
    """`import ganzoo` loads no torch; every exported name resolves (lazily) to ganzoo.harness.api's."""
    code = ("import sys, ganzoo; assert 'torch' not in sys.modules, 'import ganzoo loaded torch'; "
            "print(ganzoo.__file__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == REPO / "harness" / "_ganzoo" / "__init__.py"
    import ganzoo
    from ganzoo.harness import api

    assert sorted(ganzoo.__all__) == sorted(api.__all__)
    for name in ganzoo.__all__:
        assert getattr(ganzoo, name) is getattr(api, name)
    with pytest.raises(AttributeError):
        ganzoo.no_such_thing  # noqa: B018


def test_a_built_wheel_imports_ganzoo_harness_and_zoo(tmp_path):
    """The non-editable install: build the wheel, install it into a folder, import from there alone."""
    version = importlib.metadata.version("setuptools")
    if int(version.split(".")[0]) < 68:
        pytest.skip(f"building offline needs setuptools ≥ 68 in this environment (it has {version})")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-build-isolation", "--no-deps",
                            "-q", "-w", str(tmp_path / "wheel")], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "wheel").glob("ganzoo-*.whl"))
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    code = f"""
import sys
sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]  # hide the editable install
sys.path.insert(0, {str(target)!r})
import ganzoo, ganzoo.harness.plugin, ganzoo.zoo.gan
from importlib.metadata import entry_points
assert all(m.__file__.startswith({str(target)!r}) for m in (ganzoo, ganzoo.harness.plugin, ganzoo.zoo.gan))
assert ganzoo.train.__module__.startswith("ganzoo.harness.api")
print(sorted(e.name for e in entry_points(group="ganzoo.models") if e.dist.locate_file("").as_posix().startswith({str(target)!r})))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    assert "'gan'" in result.stdout and "'wgan-gp'" in result.stdout


def test_import_ganzoo_works_from_the_folder_that_holds_a_checkout_named_ganzoo(tmp_path):
    """Python started beside a checkout named `ganzoo` imports the folder, not the installed package; the
    checkout's __init__.py makes that the same API (was: a namespace package without `load`)."""
    (tmp_path / "ganzoo").symlink_to(REPO, target_is_directory=True)
    code = ("import sys, ganzoo; assert 'torch' not in sys.modules; import ganzoo.harness.api as api; "
            "assert callable(ganzoo.load) and ganzoo.load is api.load; print(api.__file__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("harness/api/__init__.py")
