"""The harness's layering (docs/architecture.md), checked on the source: imports run one way.

Every ``import`` counts, including those inside functions: a lazy import still ties two modules
together, so it may not point upwards either. Imports under ``if TYPE_CHECKING:`` are left out:
they are annotations only and never run.

The training loop is checked too: its module stays short, and no other harness module reaches
into a ``Trainer`` (see :func:`trainer_attribute_uses` for the rule, and the tests of the rule).
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable
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
    ("check", "suites"),
    ("api",),
    ("cli",),
]
#: harness/_ganzoo is the `ganzoo` package itself (pyproject.toml package-dir), not part of ganzoo.harness
GANZOO_PACKAGE = HARNESS / "_ganzoo"
#: modules directly in harness/: the public surfaces over the packages (they may import any layer)
TOP_LEVEL_LIMIT = 10
MAX_LINES = 500
#: the training loop's module, and its own limit: it reads top to bottom in one sitting (mimicry's trainer)
LOOP_MODULE = HARNESS / "train" / "trainer.py"
LOOP_MAX_LINES = 250


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


#: basenames that may repeat, each with the reason; a module's name says what it holds, so that
#: `harness/x/records.py` and `harness/y/records.py` never need their folder to tell them apart.
#: (The 0.1 import paths harness/spec.py and harness/losses.py need no entry: their modules now
#: live in contract/ as model_spec.py and gan_losses.py.)
SHARED_BASENAMES: dict[str, str] = {}
#: files whose name is fixed by Python, not chosen: a package's __init__ and a package's __main__
PYTHON_NAMES = {"__init__.py", "__main__.py"}


def repeated_basenames(paths: Iterable[str], allowed: dict[str, str] = SHARED_BASENAMES) -> dict[str, list[str]]:
    """Basenames held by more than one module (``{"records.py": ["suites/records.py", "train/records.py"]}``)."""
    by_name: dict[str, list[str]] = {}
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        if name not in PYTHON_NAMES and name not in allowed:
            by_name.setdefault(name, []).append(path)
    return {name: sorted(found) for name, found in by_name.items() if len(found) > 1}


def test_no_two_modules_share_a_basename():
    paths = [p.relative_to(HARNESS.parent).as_posix() for root in ("harness", "zoo")
             for p in (HARNESS.parent / root).rglob("*.py")]
    repeated = repeated_basenames(paths)
    assert not repeated, ("modules with the same name (name each for what it holds, or add it to "
                          f"SHARED_BASENAMES with the reason): {repeated}")
    assert all(reason for reason in SHARED_BASENAMES.values()), "every allowed repeat says why"


def test_the_basename_rule_finds_a_repeat():
    paths = ["harness/suites/records.py", "harness/train/records.py", "harness/train/__init__.py",
             "harness/check/__init__.py", "zoo/gan.py", "harness/train/gan.py"]
    assert repeated_basenames(paths) == {"records.py": ["harness/suites/records.py", "harness/train/records.py"],
                                         "gan.py": ["harness/train/gan.py", "zoo/gan.py"]}
    assert repeated_basenames(paths, {"records.py": "why", "gan.py": "why"}) == {}


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
    """docs/plugins.md of ganzoo 0.1 published these; third-party plugins rely on them. harness/compat.py
    keeps them: each old path is the module now behind it, so old and new plugins share every class."""
    import ganzoo.harness.spec
    from ganzoo.harness import compat, losses
    from ganzoo.harness.contract import gan_losses, model_spec
    from ganzoo.harness.plugin import GANPlugin, Phase, PhaseResult
    from ganzoo.harness.spec import DataKind, Family, ModelConfig, ModelSpec

    from ganzoo.harness import plugin

    assert plugin.ModelSpec is ModelSpec and plugin.DataKind is DataKind and plugin.Family is Family
    assert plugin.ModelConfig is ModelConfig and plugin.losses.hinge_generator is losses.hinge_generator
    assert GANPlugin and Phase and PhaseResult
    assert ganzoo.harness.spec is model_spec and losses is gan_losses and plugin.losses is gan_losses
    assert set(compat.MODULES) == {"ganzoo.harness.spec", "ganzoo.harness.losses"}


def test_the_compatibility_paths_are_one_line_each_and_nothing_else_re_exports():
    """The 0.1 shims live in compat.py: harness/spec.py and losses.py only alias, and no harness module
    re-exports another's names for old callers (``# noqa: F401 - re-exported``)."""
    for name in ("spec", "losses"):
        code = [line for line in (HARNESS / f"{name}.py").read_text().splitlines()
                if line.strip() and not line.startswith(('"""', "from .compat import alias"))]
        assert code == ["alias(__name__)  # this import path is now that module itself"], code
    re_exports = [f"{path.relative_to(HARNESS)}:{n}" for path in HARNESS.rglob("*.py")
                  for n, line in enumerate(path.read_text().splitlines(), 1) if "re-export" in line and "noqa" in line]
    assert not re_exports, re_exports


# -- the training loop ------------------------------------------------------------------------------
def _mentions_trainer(annotation: ast.AST | None) -> bool:
    """Does a type annotation name ``Trainer`` (``Trainer``, ``"Trainer"``, ``Trainer | None``, ``x.Trainer``,
    ``tuple[Trainer, …]``)?"""
    for node in ast.walk(annotation) if annotation is not None else ():
        if (isinstance(node, ast.Name) and node.id == "Trainer" or isinstance(node, ast.Attribute)
                and node.attr == "Trainer" or isinstance(node, ast.Constant) and isinstance(node.value, str)
                and re.search(r"\bTrainer\b", node.value)):
            return True
    return False


def _trainer_position(annotation: ast.AST | None) -> int | None | bool:
    """Where a return annotation puts the Trainer: ``None`` (it is one), a position in a returned
    ``tuple[...]``, or False (nowhere)."""
    if not _mentions_trainer(annotation):
        return False
    if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", None) == "tuple":
        items = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        return next(i for i, item in enumerate(items) if _mentions_trainer(item))
    return None


def trainer_factories(sources: Iterable[str]) -> dict[str, int | None]:
    """Functions and methods (by name) whose return annotation is a Trainer (value None) or a tuple holding
    one (value: its position)."""
    found: dict[str, int | None] = {"Trainer": None}
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                position = _trainer_position(node.returns)
                if position is not False:
                    found[node.name] = position
    return found


def trainer_attribute_uses(source: str, factories: dict[str, int | None],
                           allowed: Iterable[str]) -> list[tuple[int, str, bool]]:
    """Every use of an attribute of a Trainer in ``source``: (line, "name.attribute", allowed?).

    The rule: outside the loop's own module, a harness module uses a Trainer only through
    ``Trainer.ENTRY_POINTS`` (``fit``, ``train_iteration``, ``sampling_networks`` and ``state``, the
    run's :class:`RunState`); modules that read or write the run's state take the ``RunState``
    itself. A name holds a Trainer when it is

    - called ``trainer`` (the harness's name for one), or a parameter or variable annotated with
      ``Trainer`` (``t: Trainer``, ``"Trainer | None"`` …);
    - assigned the result of ``Trainer(...)`` or of a function whose return annotation is a Trainer
      (:func:`trainer_factories`; for ``tuple[Trainer, X]`` the name at the Trainer's position).

    A use is ``name.attribute`` (read, written or called) or ``getattr/setattr/hasattr/delattr(name,
    "attribute")``. Names count module-wide (a module does not reuse a Trainer's name for something
    else); a Trainer kept in another object's attribute (``self.t``) is not followed.
    """
    tree = ast.parse(source)
    holders = {"trainer"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            holders.update(a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs
                           if _mentions_trainer(a.annotation))
        elif (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
              and _mentions_trainer(node.annotation)):
            holders.add(node.target.id)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            called = node.value.func
            name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", None)
            if name not in factories:
                continue
            position = factories[name]
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if position is None and isinstance(target, ast.Name):
                    holders.add(target.id)
                elif position is not None and isinstance(target, ast.Tuple) and position < len(target.elts):
                    element = target.elts[position]
                    if isinstance(element, ast.Name):
                        holders.add(element.id)
    allowed = set(allowed)
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in holders:
            uses.append((node.lineno, f"{node.value.id}.{node.attr}", node.attr in allowed))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) >= 2
              and isinstance(node.args[0], ast.Name) and node.args[0].id in holders
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            attribute = node.args[1].value
            uses.append((node.lineno, f"{node.func.id}({node.args[0].id}, {attribute!r})", attribute in allowed))
    return sorted(uses)


def _entry_points() -> tuple[str, ...]:
    """``Trainer.ENTRY_POINTS``, read from the loop's source (no torch import)."""
    for node in ast.walk(ast.parse(LOOP_MODULE.read_text())):
        if isinstance(node, ast.ClassDef) and node.name == "Trainer":
            for item in node.body:
                if isinstance(item, ast.Assign) and any(getattr(t, "id", None) == "ENTRY_POINTS" for t in item.targets):
                    return tuple(ast.literal_eval(item.value))
    raise AssertionError(f"no Trainer.ENTRY_POINTS in {LOOP_MODULE}")


def _too_long(text: str, limit: int) -> bool:
    return len(text.splitlines()) > limit


def test_the_loop_module_reads_in_one_sitting():
    lines = len(LOOP_MODULE.read_text().splitlines())
    assert not _too_long(LOOP_MODULE.read_text(), LOOP_MAX_LINES), (
        f"{LOOP_MODULE.relative_to(HARNESS)} has {lines} lines (at most {LOOP_MAX_LINES}): move setup, maintenance "
        "or state handling into the module whose name says what it holds (docs/architecture.md)")


def test_no_module_outside_the_loop_reaches_into_a_trainer():
    paths = [p for p in HARNESS.rglob("*.py") if GANZOO_PACKAGE not in p.parents]
    factories = trainer_factories(p.read_text() for p in paths)
    entry_points = _entry_points()
    reached, seen = [], 0
    for path in paths:
        if path == LOOP_MODULE:
            continue
        for line, use, allowed in trainer_attribute_uses(path.read_text(), factories, entry_points):
            seen += 1
            if not allowed:
                reached.append(f"{path.relative_to(HARNESS)}:{line}: {use}")
    assert not reached, (f"Trainer attributes used outside {LOOP_MODULE.relative_to(HARNESS)} (only "
                         f"{', '.join(entry_points)}; read the run's state from trainer.state):\n" + "\n".join(reached))
    assert seen >= 10, f"the rule saw only {seen} uses of a Trainer in the harness: is it still looking?"
    assert {"open_trainer", "trainer", "fp32_run"} <= set(factories), factories


def test_the_entry_points_exist_on_the_trainer():
    tree = next(n for n in ast.walk(ast.parse(LOOP_MODULE.read_text()))
                if isinstance(n, ast.ClassDef) and n.name == "Trainer")
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    defined |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    assert set(_entry_points()) <= defined, set(_entry_points()) - defined


FRIEND_MODULE = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from .trainer import Trainer

def capture(t: Trainer):
    return {"step": t.step, "scales": dict(t._scales)}

def summary(t: "Trainer | None", other):
    return t.state.nets, other.step

def quiet(run):
    trainer = make(run)
    if hasattr(trainer, "_evaluate"):
        trainer._evaluate = lambda: {}
    trainer.fit()

def compare(session):
    whole, error = session.fp32_run()
    resumed = session.trainer("fp32")
    built = Trainer(1, 2, 3)
    return whole.nets, error.args, resumed.ctx, built.sampling_networks(), getattr(built, "step")
"""


def test_the_trainer_rule_catches_friend_modules():
    factories = trainer_factories([FRIEND_MODULE, "def fp32_run(self) -> tuple[Trainer | None, Exception]: ...",
                                   "def trainer(self, precision) -> 'Trainer': ..."])
    assert factories == {"Trainer": None, "fp32_run": 0, "trainer": None}
    uses = trainer_attribute_uses(FRIEND_MODULE, factories, ("fit", "train_iteration", "sampling_networks", "state"))
    assert sorted(use for _, use, allowed in uses if not allowed) == sorted([
        "t.step", "t._scales", "hasattr(trainer, '_evaluate')", "trainer._evaluate", "whole.nets", "resumed.ctx",
        "getattr(built, 'step')"])
    assert sorted(use for _, use, allowed in uses if allowed) == ["built.sampling_networks", "t.state", "trainer.fit"]


def test_the_trainer_rule_passes_modules_that_take_the_state():
    clean = """
def capture(s: RunState):
    return {"step": s.step, "scales": dict(s.scales)}

def run(trainer: Trainer):
    summary = trainer.fit()
    return summary, trainer.state.nets, trainer.state.step
"""
    uses = trainer_attribute_uses(clean, {"Trainer": None}, ("fit", "state"))
    assert [(use, allowed) for _, use, allowed in uses] == [
        ("trainer.fit", True), ("trainer.state", True), ("trainer.state", True)]


def test_the_line_limit_rule():
    assert _too_long("x = 1\n" * (LOOP_MAX_LINES + 1), LOOP_MAX_LINES)
    assert not _too_long("x = 1\n" * LOOP_MAX_LINES, LOOP_MAX_LINES)


# -- errors -------------------------------------------------------------------------------------------
ERRORS_MODULE = HARNESS / "contract" / "errors.py"
#: exceptions that never reach the user: each is raised and caught inside the harness as control flow
INTERNAL_EXCEPTIONS = {
    "train/guard.py:RollbackRequest": "the guard asks the loop to roll back; the loop catches it",
    "check/monitor.py:ContractViolation": "raised in plugin code under `ganzoo check`, reported as a failed check",
    "check/session.py:Skip": "a conformance check's outcome, caught by the check session",
    "check/session.py:Fail": "a conformance check's outcome, caught by the check session",
    "check/session.py:Warn": "a conformance check's outcome, caught by the check session",
    "check/pytest_plugin.py:ConformanceFailure": "pytest reports it as the failed conformance item",
}
_BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                       if isinstance(value, type) and issubclass(value, BaseException) and not issubclass(value, Warning)}


def exception_classes(sources: dict[str, str]) -> set[str]:
    """``"file:Class"`` for every exception class (not a warning) the sources define: a class whose base is a
    built-in exception or, by name, another exception class of the sources (resolved to a fixed point)."""
    classes = {f"{file}:{node.name}": [getattr(base, "id", getattr(base, "attr", "")) for base in node.bases]
               for file, source in sources.items() for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.ClassDef)}
    found: set[str] = set()
    while True:
        names = {key.split(":")[1] for key in found}
        more = {key for key, bases in classes.items()
                if key not in found and any(base in _BUILTIN_EXCEPTIONS or base in names for base in bases)}
        if not more:
            return found
        found |= more


def _harness_sources() -> dict[str, str]:
    return {path.relative_to(HARNESS).as_posix(): path.read_text() for path in _modules().values()}


def test_every_error_the_user_can_see_lives_in_contract_errors():
    """One place lists what can go wrong (issue 27): a layer raises its error, it does not define it."""
    outside = {key for key in exception_classes(_harness_sources()) if not key.startswith("contract/errors.py:")}
    assert outside - set(INTERNAL_EXCEPTIONS) == set(), (
        "exception classes outside harness/contract/errors.py (define them there, deriving from GanzooError, "
        "or list them in INTERNAL_EXCEPTIONS with the place that catches them)")
    assert set(INTERNAL_EXCEPTIONS) <= outside, "INTERNAL_EXCEPTIONS names a class that no longer exists"


def test_every_error_derives_from_ganzoo_error_and_ganzoo_exports_the_same_classes():
    import ganzoo
    from ganzoo.harness.contract import errors

    defined = [value for value in vars(errors).values()
               if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == errors.__name__]
    assert len(defined) == len(exception_classes({"errors.py": ERRORS_MODULE.read_text()})) > 20
    assert all(issubclass(error, errors.GanzooError) for error in defined)
    for name in ganzoo.__all__:
        if isinstance(getattr(ganzoo, name), type) and issubclass(getattr(ganzoo, name), BaseException):
            assert getattr(ganzoo, name) is getattr(errors, name), name


def test_the_error_rule_finds_an_error_defined_in_a_layer():
    sources = {"data/x.py": "class LocalError(ValueError):\n    pass\nclass Child(LocalError):\n    pass\n"
                            "class Note(UserWarning):\n    pass\nclass Plain:\n    pass\n",
               "train/y.py": "from ..data.x import Child\nclass Grandchild(Child):\n    pass\n"}
    assert exception_classes(sources) == {"data/x.py:LocalError", "data/x.py:Child", "train/y.py:Grandchild"}
