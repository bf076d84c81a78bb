"""The conformance suite as a pytest plugin, for plugin authors' CI: ``pytest --ganzoo-plugin NAME``.

Registered in the ``pytest11`` entry-point group (ganzoo's pyproject), so it is active wherever
ganzoo is installed; without ``--ganzoo-plugin`` it adds nothing. With it, every check of
``harness.check`` becomes one test item, ``ganzoo[NAME]::CHECK``, next to the author's own
tests: a failed check fails with its precise detail, a skipped check is skipped with the reason,
a warning is reported as a pytest warning. ``-k`` selects checks (``-k "seed or resume"``) and
only the selected ones run. Options::

    --ganzoo-plugin NAME      check this installed model (repeatable)
    --ganzoo-dataset NAME     dataset for the checks (default: the model's NAME/check preset, else default)
    --ganzoo-set KEY=VALUE    config override, as `ganzoo run --set` (repeatable)
    --ganzoo-data-dir PATH    where image datasets live

The ``ganzoo_conformance`` fixture runs the suite from a test of one's own::

    def test_my_gan_conforms(ganzoo_conformance):
        report = ganzoo_conformance("my-gan", skip=["data-parallel"])
        assert report.ok, report.describe()

Without the entry point (e.g. a source checkout that is not installed), load it with
``-p ganzoo.harness.check.pytest_plugin``. The module imports torch only when a check runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from .conformance import CHECKS  # the module imports torch lazily, so pytest start-up stays light


class ConformanceWarning(UserWarning):
    """A conformance check passed with a caveat (e.g. a preset name clash)."""


class ConformanceFailure(Exception):
    """A failed conformance check; pytest shows its detail without a traceback."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ganzoo", "ganzoo plugin conformance (ganzoo check as tests)")
    group.addoption("--ganzoo-plugin", action="append", default=[], metavar="NAME",
                    help="Run ganzoo's conformance checks on this installed model plugin (repeatable)")
    group.addoption("--ganzoo-dataset", default=None, metavar="NAME",
                    help="Dataset for the conformance checks (default: the NAME/check preset's, else the model's)")
    group.addoption("--ganzoo-set", action="append", default=[], metavar="KEY=VALUE",
                    help="Config override for the conformance checks, as `ganzoo run --set` (repeatable)")
    group.addoption("--ganzoo-data-dir", default=None, metavar="PATH",
                    help="Where image datasets live, for the conformance checks")


def _options(config: pytest.Config) -> dict[str, Any]:
    data_dir = config.getoption("ganzoo_data_dir")
    return {"dataset": config.getoption("ganzoo_dataset"), "assignments": tuple(config.getoption("ganzoo_set")),
            "data_dir": Path(data_dir) if data_dir else None}


class ConformanceItem(pytest.Item):
    """One conformance check of one plugin, run lazily together with the other selected checks."""

    def __init__(self, *, plugin: str, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin
        self.check = check

    def runtest(self) -> None:
        report = _report_for(self)
        result = report.result(self.check)
        if result is None:  # discovery passes silently when not selected; anything else is a bug
            pytest.skip(f"{self.check} was not run")
        if result.status == "fail":
            raise ConformanceFailure(f"ganzoo check {self.plugin}: {self.check} failed: {result.detail}")
        if result.status == "skip":
            pytest.skip(f"{self.check}: {result.detail}")
        if result.status == "warn":
            warnings.warn(ConformanceWarning(f"ganzoo check {self.plugin}: {self.check}: {result.detail}"),
                          stacklevel=1)

    def repr_failure(self, excinfo, style=None):  # noqa: ANN001 - pytest's signature
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):  # noqa: ANN201
        return self.path, None, f"ganzoo check {self.plugin}: {self.check}"


def _report_for(item: ConformanceItem) -> Any:
    """Run the selected checks of the item's plugin once per session and share the report."""
    from .conformance import run_checks

    config = item.config
    reports: dict[str, Any] = config.stash.setdefault(_REPORTS, {})
    if item.plugin not in reports:
        selected = [i.check for i in item.session.items
                    if isinstance(i, ConformanceItem) and i.plugin == item.plugin]
        reports[item.plugin] = run_checks(item.plugin, only=selected, **_options(config))
    return reports[item.plugin]


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection, so those select checks too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    for plugin in config.getoption("ganzoo_plugin"):
        for check in CHECKS:
            items.append(ConformanceItem.from_parent(session, name=f"ganzoo[{plugin}]::{check}", plugin=plugin,
                                                     check=check, nodeid=f"ganzoo[{plugin}]::{check}"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    plugins = config.getoption("ganzoo_plugin")
    return [f"ganzoo conformance: {', '.join(plugins)}"] if plugins else []


@pytest.fixture(scope="session")
def ganzoo_conformance(pytestconfig: pytest.Config) -> Callable[..., Any]:
    """``ganzoo_conformance(name, *, dataset=None, assignments=(), data_dir=None, only=None, skip=())`` →
    :class:`ganzoo.harness.check.conformance.Report` (``.ok``, ``.failures``, ``.describe()``); cached per arguments."""
    cache: dict[tuple, Any] = {}

    def run(name: str, *, dataset: str | None = None, assignments: Sequence[str] = (), data_dir: Path | None = None,
            only: Sequence[str] | None = None, skip: Sequence[str] = ()) -> Any:
        from .conformance import run_checks

        defaults = _options(pytestconfig)
        key = (name, dataset, tuple(assignments), str(data_dir), tuple(only or ()), tuple(skip))
        if key not in cache:
            cache[key] = run_checks(name, dataset=dataset or defaults["dataset"],
                                    assignments=tuple(assignments) or defaults["assignments"],
                                    data_dir=data_dir or defaults["data_dir"], only=only, skip=skip)
        return cache[key]

    return run
