"""The harness's layering (docs/architecture.md), checked on the source: imports run one way.

Every ``import`` counts, including those inside functions: a lazy import still ties two modules
together, so it may not point upwards either. Imports under ``if TYPE_CHECKING:`` are left out:
they are annotations only and never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "harness"
PACKAGE = "ganzoo.harness"

#: lower layers first; a module may import its own layer and the layers before it
LAYERS = [
    ("contract",),
    ("data",),
    ("metrics",),
    ("evaluation",),
    ("report",),
    ("train",),
    ("check", "bench"),
    ("api",),
    ("cli",),
]
#: harness/_ganzoo is the `ganzoo` package itself (pyproject.toml package-dir), not part of ganzoo.harness
GANZOO_PACKAGE = HARNESS / "_ganzoo"
#: modules directly in harness/: the public surfaces over the packages (they may import any layer)
TOP_LEVEL_LIMIT = 10
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    found = {}
    for path in HARNESS.rglob("*.py"):
        if GANZOO_PACKAGE in path.parents:
            continue
        parts = list(path.relative_to(HARNESS).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join([PACKAGE, *parts])] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The harness modules ``name`` imports (a package import counts as its ``__init__``)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    tree = ast.parse(path.read_text())
    type_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                 and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
                 for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                if f"{module}.{alias.name}" in modules:
                    targets.add(f"{module}.{alias.name}")
                elif module in modules:
                    targets.add(module)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names if alias.name in modules)
    targets.discard(name)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 2 or (len(parts) == 3 and (HARNESS / f"{parts[2]}.py").exists()):
        return None  # harness/__init__ or a top-level module (harness/X.py): outside the layering
    for index, names in enumerate(LAYERS):
        if parts[2] in names:
            return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS and docs/architecture.md")


def test_imports_run_from_higher_layers_to_lower_ones():
    upward = []
    for module, targets in _graph().items():
        mine = _layer(module)
        if mine is None:
            continue
        for target in targets:
            theirs = _layer(target)
            if theirs is None:
                upward.append(f"{module} → {target} (a top-level public module)")
            elif theirs > mine or (theirs == mine and target.split(".")[2] != module.split(".")[2]):
                upward.append(f"{module} → {target}")
    assert not upward, "imports against the layering:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_harness_top_level_stays_small_and_modules_stay_readable():
    top = sorted(p.name for p in HARNESS.glob("*.py"))
    assert len(top) <= TOP_LEVEL_LIMIT, f"{len(top)} modules directly in harness/: {top}"
    long = {str(p.relative_to(HARNESS)): n for p in HARNESS.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("folder", ["zoo", "examples/plugin-template/src"])
def test_zoo_and_template_use_only_the_public_plugin_module(folder):
    root = HARNESS.parent / folder
    private = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
                if node.module != f"{PACKAGE}.plugin":
                    private.append(f"{path.relative_to(HARNESS.parent)}: from {node.module}")
            elif isinstance(node, ast.Import):
                private += [f"{path.relative_to(HARNESS.parent)}: import {a.name}" for a in node.names
                            if a.name.startswith(PACKAGE)]
    assert not private, "imports beside ganzoo.harness.plugin:\n" + "\n".join(private)


def test_published_import_paths_still_work():
    """docs/plugins.md of ganzoo 0.1 published these; third-party plugins rely on them."""
    from ganzoo.harness import losses
    from ganzoo.harness.plugin import GANPlugin, Phase, PhaseResult
    from ganzoo.harness.spec import DataKind, Family, ModelConfig, ModelSpec

    from ganzoo.harness import plugin

    assert plugin.ModelSpec is ModelSpec and plugin.DataKind is DataKind and plugin.Family is Family
    assert plugin.ModelConfig is ModelConfig and plugin.losses.hinge_generator is losses.hinge_generator
    assert GANPlugin and Phase and PhaseResult
