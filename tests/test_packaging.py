"""The installed layout: every folder of harness/ and zoo/ that is a package is listed in pyproject.toml."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for top, name in (("harness", "ganzoo.harness"), ("zoo", "ganzoo.zoo")):
        for init in (REPO / top).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / top)
            package = ".".join([name, *relative.parts])
            assert package in listed, f"{package} ({init.parent}) is missing from [tool.setuptools] packages"


def test_registry_toml_sits_where_the_harness_looks_for_it():
    from ganzoo.harness.contract.presets import registry_path

    assert registry_path() == REPO / "registry.toml"
