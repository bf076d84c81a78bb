"""``ganzoo.zoo.blocks`` and ``ganzoo.zoo.mlp`` are public building blocks for third-party plugins (docs/plugins.md):
they say so, declare ``__all__``, depend on nothing of ganzoo, and the examples import nothing else from the zoo."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ["ganzoo.zoo.blocks", "ganzoo.zoo.mlp"]


@pytest.mark.parametrize("name", PUBLIC)
def test_the_public_blocks_say_so_and_declare_all(name):
    module = importlib.import_module(name)
    assert "Public and stable for third-party plugins" in module.__doc__
    assert module.__all__ and len(set(module.__all__)) == len(module.__all__)
    assert all(hasattr(module, member) for member in module.__all__)
    defined = {n for n, v in vars(module).items() if not n.startswith("_") and getattr(v, "__module__", name) == name
               and (callable(v) or n.isupper())}
    assert defined <= set(module.__all__), f"public names missing from __all__: {sorted(defined - set(module.__all__))}"


@pytest.mark.parametrize("name", PUBLIC)
def test_the_public_blocks_depend_on_nothing_of_ganzoo(name):
    path = ROOT / "zoo" / f"{name.rsplit('.', 1)[1]}.py"
    imported = [node.module or "" for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)]
    imported += [a.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Import)
                 for a in node.names]
    assert not [m for m in imported if m.startswith("ganzoo")], imported


def test_the_examples_import_only_the_public_blocks_from_the_zoo():
    used = []
    for path in (ROOT / "examples").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ganzoo.zoo"):
                used += [(path.name, node.module, a.name) for a in node.names]
    assert used, "the plugin template reuses the zoo's blocks"
    for file, module, member in used:
        assert module in PUBLIC, f"{file} imports {module}, which is not a public building block"
        assert member in importlib.import_module(module).__all__, f"{file} imports {module}.{member}, not in __all__"
