"""`ganzoo check NAME`: the conformance suite every plugin, built-in or third-party, must pass.

The checks run the plugin through the real harness (the same registry, presets, trainer,
checkpoints and gradient averaging as ``ganzoo run``; the two data-parallel workers are started
with ``torch.multiprocessing`` and form their gloo group through Accelerate, as launched runs do),
tiny and on CPU, so an author learns in a minute whether their plugin keeps the contract the
harness relies on:

========================  ===========================================================================
``discovery``             the ``ganzoo.models`` entry point loads and passes the registry's validation
``spec``                  spec and config schema are valid and round-trip through JSON; the check's
                          own configuration resolves
``presets``               the plugin's presets (its ``presets`` attribute and registry.toml's) validate
``build``                 networks build on CPU; ``optimizers()`` and ``phases()`` fit them
``contract``              build, phase steps and ``sample()`` never call ``.backward()``, an optimizer's
                          ``.step()`` or ``torch.autograd.grad``, never move tensors between devices,
                          and the plugin does not import Accelerate
``samples``               ``sample()`` gives finite ``(n, *shape)`` tensors; images within ``value_range``
``seed``                  the same seed gives the same samples and another seed different ones
``fp32`` / ``bf16``       a few training steps stay finite in fp32 and under bf16 autocast
``tricks``                a few steps with the input-side tricks the plugin accepts (instance noise,
                          DiffAugment, PacGAN, R1), D seen through the harness's view
``resume``                checkpoint → resume equals the uninterrupted run, bit for bit (networks,
                          optimizers, noise, data order, the plugin's state)
``data-parallel``         two CPU processes (gloo) train with bit-identical replicas and plugin state
                          (compared without syncing it first)
========================  ===========================================================================

Configuration: the plugin's default dataset (or ``dataset=``), then the preset ``NAME/check`` when
the plugin (or registry.toml) ships one, else the preset ``ganzoo run`` would apply, then the
check's tiny harness settings (:data:`CHECK_TRAIN`: 4 steps, batch 16, …; a ``NAME/check`` preset's
``train`` table overrides them), then ``--set`` assignments. So a plugin with big default networks
ships a ``NAME/check`` preset with small ones (see ``examples/plugin-template``).

The checks live one family to a module of this package, each a function of the shared
:class:`~.session.CheckSession` (the loaded plugin, the check configuration, the built networks, the
fp32 run): :mod:`.discovery` (discovery, spec, presets), :mod:`.build_checks` (build, contract,
samples, seed), :mod:`.training_checks` (fp32, bf16), :mod:`.tricks_check`, :mod:`.resume_check` and
:mod:`.data_parallel`. :mod:`.monitor` observes the contract (how, it explains) and :mod:`.session` holds
what the checks share, how a check ends included. This module holds the list of checks, the report
types and :func:`run_checks`, and is the one to import from.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import build_checks, data_parallel, discovery, resume_check, training_checks, tricks_check
from .build_checks import RANGE_TOLERANCE, SAMPLES
from .data_parallel import DATA_PARALLEL_TIMEOUT_S
from .monitor import ContractMonitor, ContractViolation, guarded_plugin_class
from .session import CHECK_TRAIN, CheckSession, Fail, Skip, Warn, error_text
from .resume_check import training_state_difference

__all__ = ["CHECKS", "CHECK_TRAIN", "DATA_PARALLEL_TIMEOUT_S", "RANGE_TOLERANCE", "SAMPLES", "CheckResult",
           "ContractMonitor", "ContractViolation", "Fail", "Report", "Skip", "Status", "Warn",
           "guarded_plugin_class", "run_checks", "training_state_difference"]

CHECKS: dict[str, str] = {
    "discovery": "the ganzoo.models entry point loads and passes the registry's validation",
    "spec": "spec and config schema valid and round-trip through JSON; the check configuration resolves",
    "presets": "the plugin's presets (its own and registry.toml's) validate against the schemas",
    "build": "networks build on CPU; optimizers() and phases() fit them",
    "contract": "no .backward()/.step()/autograd.grad/device moves in plugin code; no Accelerate import",
    "samples": "sample() returns finite (n, *shape) tensors, images within the data's value_range",
    "seed": "the same seed gives the same samples, another seed different ones",
    "fp32": "a few training steps stay finite in fp32",
    "bf16": "a few training steps stay finite under bf16 autocast",
    "tricks": "a few steps with the input-side tricks the plugin accepts (D behind the harness's view)",
    "resume": "checkpoint → resume equals the uninterrupted run, bit for bit (plugin state included)",
    "data-parallel": "two CPU processes (gloo) train with bit-identical replicas and plugin state",
}

#: each check's function, in the order of CHECKS
_RUNS: dict[str, Callable[[CheckSession], str]] = {
    "discovery": discovery.check_discovery,
    "spec": discovery.check_spec,
    "presets": discovery.check_presets,
    "build": build_checks.check_build,
    "contract": build_checks.check_contract,
    "samples": build_checks.check_samples,
    "seed": build_checks.check_seed,
    "fp32": training_checks.check_fp32,
    "bf16": training_checks.check_bf16,
    "tricks": tricks_check.check_tricks,
    "resume": resume_check.check_resume,
    "data-parallel": data_parallel.check_data_parallel,
}

Status = Literal["pass", "fail", "warn", "skip"]


@dataclass
class CheckResult:
    check: str
    status: Status
    detail: str
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "seconds": round(self.seconds, 3)}


@dataclass
class Report:
    model: str
    results: list[CheckResult] = field(default_factory=list)
    dataset: str | None = None
    config: dict[str, Any] | None = None  # the RunConfig the checks trained with (JSON)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(r.status == "fail" for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "fail"]

    def result(self, check: str) -> CheckResult | None:
        return next((r for r in self.results if r.check == check), None)

    def describe(self) -> str:
        lines = [f"ganzoo check {self.model}"
                 + (f" on {self.dataset}" if self.dataset else "") + f": {'PASSED' if self.ok else 'FAILED'}"]
        lines += [f"  {r.check}: {r.status} — {r.detail}" for r in self.results]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "dataset": self.dataset, "ok": self.ok, "seconds": round(self.seconds, 3),
                "config": self.config, "results": [r.as_dict() for r in self.results]}


def run_checks(name: str, *, dataset: str | None = None, assignments: Sequence[str] = (),
               data_dir: Path | None = None, only: Sequence[str] | None = None, skip: Sequence[str] = (),
               processes: int = 2, on_result: Callable[[CheckResult], None] | None = None,
               workdir: Path | None = None) -> Report:
    """Run the conformance checks on the installed plugin ``name``; never raises for a plugin's fault."""
    unknown = [c for c in [*(only or ()), *skip] if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; the checks are: {', '.join(CHECKS)}")
    if processes < 2:
        raise ValueError("the data-parallel check needs at least 2 processes (skip it with skip=['data-parallel'])")
    selected = [c for c in CHECKS if (not only or c in only) and c not in skip]
    started = time.perf_counter()
    report = Report(model=name)
    with contextlib.ExitStack() as stack:
        root = Path(workdir) if workdir else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ganzoo-check-")))
        session = CheckSession(name, dataset, assignments, data_dir, root, processes)
        stack.enter_context(session.monitor.installed())
        for check in ["discovery", *[c for c in selected if c != "discovery"]]:
            begin = time.perf_counter()
            try:
                status, detail = "pass", _RUNS[check](session)
            except Fail as outcome:
                status, detail = "fail", str(outcome)
            except Warn as outcome:
                status, detail = "warn", str(outcome)
            except Skip as outcome:
                status, detail = "skip", str(outcome)
            except Exception as error:  # noqa: BLE001 - a crash inside a check is that check's failure
                status, detail = "fail", error_text(error)
            if check == "discovery" and check not in selected and status == "pass":
                continue  # always run (everything needs the plugin), shown only when asked for or failing
            result = CheckResult(check, status, detail, time.perf_counter() - begin)
            report.results.append(result)
            if on_result is not None:
                on_result(result)
        report.dataset = session.run.dataset if session.run is not None else dataset
        report.config = session.run.model_dump(mode="json") if session.run is not None else None
    report.seconds = time.perf_counter() - started
    return report
