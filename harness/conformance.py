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
``resume``                checkpoint → resume equals the uninterrupted run, bit for bit
``data-parallel``         two CPU processes (gloo) train with bit-identical replicas
========================  ===========================================================================

Configuration: the plugin's default dataset (or ``dataset=``), then the preset ``NAME/check`` when
the plugin (or registry.toml) ships one, else the preset ``ganzoo run`` would apply, then the
check's tiny harness settings (:data:`CHECK_TRAIN`: 4 steps, batch 16, …; a ``NAME/check`` preset's
``train`` table overrides them), then ``--set`` assignments. So a plugin with big default networks
ships a ``NAME/check`` preset with small ones (see ``examples/plugin-template``).

How the contract is observed: while plugin code runs (``build``, ``optimizers``, ``phases``, every
phase step and ``after_update``, ``sample``) the check patches ``Tensor.backward``,
``torch.autograd.backward``/``grad``, ``Tensor.to``/``cuda``/``cpu``, ``Module.to``/``cuda``/``cpu``
and registers a global optimizer step pre-hook. A call made from the plugin's own code (not from
torch or from ``ganzoo.harness``, e.g. ``ctx.gradient_penalty``) is a violation and stops the step
with the file and line. The harness's own backward and optimizer steps run outside the plugin's
phase step (see ``Trainer._run_phase``), so they are never flagged. ``.to(dtype)`` is allowed, and
device moves count only when made by the plugin's own packages (a library it calls, such as a timm
backbone doing ``.to(x.device)``, is not the plugin's doing).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

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
    "resume": "checkpoint → resume equals the uninterrupted run, bit for bit",
    "data-parallel": "two CPU processes (gloo) train with bit-identical replicas",
}

#: the check's harness settings; a ``NAME/check`` preset's ``train`` table and ``--set train.X`` override them
CHECK_TRAIN: dict[str, Any] = {
    "steps": 4, "batch_size": 16, "eval_samples": 64, "log_every": 2, "eval_every": 0, "sample_every": 0,
    "checkpoint_every": 0, "nan_policy": "stop", "nan_patience": 1,
}

SAMPLES = 16  # samples drawn by the samples and seed checks
RANGE_TOLERANCE = 1e-5
DATA_PARALLEL_TIMEOUT_S = 300.0

Status = Literal["pass", "fail", "warn", "skip"]


class ContractViolation(RuntimeError):
    """Plugin code did something the harness owns (backward, optimizer steps, device moves)."""


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


# -- the contract monitor --------------------------------------------------------------------------
def _package_dir(module: Any) -> str:
    return os.path.dirname(os.path.abspath(module.__file__)) + os.sep


def _where(filename: str, lineno: int) -> str:
    parts = Path(filename).parts
    return f"{'/'.join(parts[-2:])}:{lineno}"


class ContractMonitor:
    """Watches plugin code for calls the harness owns; see the module docstring."""

    def __init__(self) -> None:
        import torch

        self.scope: str | None = None
        self.violations: list[str] = []
        self._internal = (_package_dir(torch), os.path.dirname(os.path.abspath(__file__)) + os.sep)
        self._this_file = os.path.abspath(__file__)
        self._plugin_code: tuple[str, ...] = ()  # files/folders of the plugin's own packages (for device moves)

    def watch_plugin(self, cls: type) -> None:
        """Device moves count when the plugin's own packages make them (not a library it calls, e.g. timm)."""
        roots = set()
        for klass in cls.__mro__:
            parts = klass.__module__.split(".")
            if parts[0] in ("builtins", "abc") or klass.__module__.startswith("ganzoo.harness"):
                continue
            for end in range(1, len(parts) + 1):  # the outermost regular package (ganzoo itself is a namespace)
                module = sys.modules.get(".".join(parts[:end]))
                path = getattr(module, "__file__", None)
                if path:
                    path = os.path.abspath(path)
                    roots.add(os.path.dirname(path) + os.sep if path.endswith("__init__.py") else path)
                    break
        self._plugin_code = tuple(sorted(roots))

    def _caller_is_plugin(self, depth: int = 2) -> bool:
        filename = os.path.abspath(sys._getframe(depth).f_code.co_filename)
        return bool(self._plugin_code) and filename.startswith(self._plugin_code)

    @contextlib.contextmanager
    def scope_of(self, what: str) -> Iterator[None]:
        """Plugin code runs inside; a nested scope keeps the outer name (sample() inside a phase step)."""
        outer = self.scope
        self.scope = outer or what
        try:
            yield
        finally:
            self.scope = outer

    def wrap(self, fn: Callable | None, what: str) -> Callable | None:
        if fn is None:
            return None

        def guarded(*args: Any, **kwargs: Any) -> Any:
            with self.scope_of(what):
                return fn(*args, **kwargs)

        return guarded

    def _caller_internal(self, depth: int = 3) -> bool:
        """Is the code that called the patched function torch's or the harness's own?"""
        filename = os.path.abspath(sys._getframe(depth).f_code.co_filename)
        return filename.startswith(self._internal)

    def _plugin_location(self) -> str:
        frame = sys._getframe(2)
        while frame is not None:
            filename = os.path.abspath(frame.f_code.co_filename)
            if not filename.startswith(self._internal[0]) and filename != self._this_file:
                return f" (at {_where(filename, frame.f_lineno)})"
            frame = frame.f_back
        return ""

    def violation(self, action: str, advice: str) -> None:
        message = f"{self.scope} {action}{self._plugin_location()}; {advice}"
        self.violations.append(message)
        raise ContractViolation(message)

    def watching(self, depth: int = 3) -> bool:
        return self.scope is not None and not self._caller_internal(depth)

    @contextlib.contextmanager
    def installed(self) -> Iterator[ContractMonitor]:
        """Patch torch for the duration (process-wide); everything is restored on exit."""
        import torch
        from torch import nn
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        monitor = self
        backprop = "return the loss in PhaseResult: the harness backpropagates it (loss scaling, gradient averaging)"
        devices = ("batches arrive on the training device and new tensors come from the step context "
                   "(ctx.latent, ctx.random_labels); create others with device=x.device")

        def moves(args: tuple, kwargs: dict) -> bool:
            try:
                return torch._C._nn._parse_to(*args, **kwargs)[0] is not None
            except Exception:  # noqa: BLE001 - let the real call raise its own error
                return False

        originals: list[tuple[Any, str, Any, bool]] = []

        def patch(owner: Any, name: str, make: Callable[[Any], Callable]) -> None:
            original = getattr(owner, name)
            originals.append((owner, name, original, name in vars(owner)))
            replacement = make(original)
            replacement.__doc__ = getattr(original, "__doc__", None)
            setattr(owner, name, replacement)

        def tensor_backward(original):
            def backward(self, *args, **kwargs):
                if monitor.watching():
                    monitor.violation("calls .backward() itself", backprop)
                return original(self, *args, **kwargs)
            return backward

        def autograd_fn(label, advice):
            def make(original):
                def call(*args, **kwargs):
                    if monitor.watching():
                        monitor.violation(f"calls {label} itself", advice)
                    return original(*args, **kwargs)
                return call
            return make

        def mover(label, always):
            def make(original):
                def call(self, *args, **kwargs):
                    if monitor.scope is not None and monitor._caller_is_plugin() and (always or moves(args, kwargs)):
                        what = "a network" if isinstance(self, nn.Module) else "a tensor"
                        monitor.violation(f"moves {what} between devices itself with {label}", devices)
                    return original(self, *args, **kwargs)
                return call
            return make

        def step_hook(optimizer, args, kwargs):
            if monitor.scope is not None and not monitor._step_from_harness():
                monitor.violation(f"calls {type(optimizer).__name__}.step() itself",
                                  "the harness steps the optimizers of Phase.updates after the phase step")

        patch(torch.Tensor, "backward", tensor_backward)
        patch(torch.autograd, "backward", autograd_fn("torch.autograd.backward()", backprop))
        patch(torch.autograd, "grad", autograd_fn(
            "torch.autograd.grad()", "penalties that need input gradients come from the harness "
            "(ctx.gradient_penalty, ctx.r1_penalty), correct under fp16 and data parallelism"))
        patch(torch.Tensor, "to", mover(".to(device)", always=False))
        patch(torch.Tensor, "cuda", mover(".cuda()", always=True))
        patch(torch.Tensor, "cpu", mover(".cpu()", always=True))
        patch(nn.Module, "to", mover(".to(device)", always=False))
        patch(nn.Module, "cuda", mover(".cuda()", always=True))
        patch(nn.Module, "cpu", mover(".cpu()", always=True))
        handle = register_optimizer_step_pre_hook(step_hook)
        try:
            yield self
        finally:
            handle.remove()
            for owner, name, original, own in reversed(originals):
                if own:
                    setattr(owner, name, original)
                else:  # it was inherited (e.g. Tensor.to from the C base class): inherit it again
                    delattr(owner, name)

    def _step_from_harness(self) -> bool:
        """An optimizer step inside plugin scope counts unless the first non-torch frame is the harness's."""
        frame = sys._getframe(2)
        while frame is not None:
            filename = os.path.abspath(frame.f_code.co_filename)
            if not filename.startswith(self._internal[0]):
                return filename.startswith(self._internal[1]) and filename != self._this_file
            frame = frame.f_back
        return False


def guarded_plugin_class(cls: type, monitor: ContractMonitor) -> type:
    """A subclass of the plugin whose entry points (build, phases, steps, sample) run in monitor scopes."""
    from .plugin import Phase

    def build(self):
        with monitor.scope_of("build()"):
            return cls.build(self)

    def optimizers(self):
        with monitor.scope_of("optimizers()"):
            return cls.optimizers(self)

    def phases(self):
        with monitor.scope_of("phases()"):
            phases = cls.phases(self)
        if not isinstance(phases, list) or not all(isinstance(p, Phase) for p in phases):
            return phases  # the trainer reports the contract error
        return [replace(p, step=monitor.wrap(p.step, f"phase {p.name!r}"),
                        after_update=monitor.wrap(p.after_update, f"phase {p.name!r} after_update"))
                for p in phases]

    def sample(self, nets, ctx, n, labels=None):
        with monitor.scope_of("sample()"):
            return cls.sample(self, nets, ctx, n, labels)

    namespace = {"build": build, "optimizers": optimizers, "phases": phases, "sample": sample,
                 "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}
    return type(cls.__name__, (cls,), namespace)


# -- helpers -----------------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The trainer's progress lines would drown the report: keep them."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def _error_text(error: BaseException) -> str:
    """'Type: message (file:line)', the line being the innermost frame outside torch."""
    import torch

    torch_dir = _package_dir(torch)
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(f.filename).startswith(torch_dir)]
    where = f" (at {_where(frames[-1].filename, frames[-1].lineno)})" if frames else ""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}{where}" if message else f"{type(error).__name__}{where}"


def _first_difference(a: Any, b: Any, path: str) -> str | None:
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return f"{path}: shape/dtype {tuple(a.shape)}/{a.dtype} vs {tuple(b.shape)}/{b.dtype}"
        if torch.equal(a, b):
            return None
        if a.is_floating_point():
            delta = (a.double() - b.double()).abs().nan_to_num(nan=math.inf).max().item()
            return f"{path} (max |Δ| = {delta:.3g})"
        return path
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys differ"
        for key in a:
            found = _first_difference(a[key], b[key], f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path} ({a!r} vs {b!r})"


def training_state_difference(a: Any, b: Any) -> str | None:
    """The first place where two trainers' states differ (networks, EMA, optimizers, noise, data order)."""
    if a.step != b.step:
        return f"step counter ({a.step} vs {b.step})"
    for name in a.nets:
        found = _first_difference(a.nets[name].state_dict(), b.nets[name].state_dict(), f"network {name}")
        if found:
            return found
    if a.ema is not None and b.ema is not None:
        found = _first_difference(a.ema.state_dict(), b.ema.state_dict(), "EMA")
        if found:
            return found
    for name in a.optimizers:
        found = _first_difference(a.optimizers[name].state_dict()["state"], b.optimizers[name].state_dict()["state"],
                                  f"optimizer of {name}")
        if found:
            return found
    found = _first_difference(a.ctx.generator.get_state(), b.ctx.generator.get_state(), "the step context's noise")
    return found or _first_difference(a.source.state_dict(), b.source.state_dict(), "the data order")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data_parallel_worker(rank: int, world: int, port: int, payload: dict[str, Any], out_dir: str) -> None:
    """One process of the data-parallel check (spawned: imports only what it needs)."""
    out = Path(out_dir)
    log = open(out / f"rank{rank}.log", "w")  # noqa: SIM115 - fds 1 and 2 point here until the process exits
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world), OMP_NUM_THREADS="1",
                      GANZOO_EXPECTED_PROCESSES=str(world))
    import torch

    torch.set_num_threads(1)
    from . import registry
    from .config import RunConfig
    from .rundir import RunDir
    from .trainer import Trainer

    try:
        plugin = registry.get(payload["model"])
        run = RunConfig.model_validate_json(payload["run"])
        data_dir = Path(payload["data_dir"]) if payload.get("data_dir") else None
        trainer = Trainer(run, plugin, RunDir(out / "run", resume=True), data_dir=data_dir, cpu=True, progress=False)
        _no_evaluation(trainer)
        summary = trainer.fit()
        result = {"distributed": summary["distributed"], "steps": summary["steps"], "status": summary["status"],
                  "counters": summary["counters"]}
    except BaseException as error:
        (out / f"rank{rank}.error").write_text(_error_text(error) + "\n" + traceback.format_exc())
        raise
    (out / f"rank{rank}.json").write_text(json.dumps(result))


def _no_evaluation(trainer: Any) -> None:
    """Check runs skip the final metrics and plots (image metrics would train a classifier first);
    the samples and seed checks exercise sample() directly."""
    if hasattr(trainer, "_evaluate"):
        trainer._evaluate = lambda: {}
    if hasattr(trainer, "_plot"):
        trainer._plot = lambda tag: None


# -- the checks --------------------------------------------------------------------------------------
class Skip(Exception):
    """A check that cannot run because another one failed; the message names it."""


class Fail(Exception):
    """A failed check with its precise detail."""


class Warn(Exception):
    """A check that passed with a caveat."""


class _Checker:
    def __init__(self, name: str, dataset: str | None, assignments: Sequence[str], data_dir: Path | None,
                 workdir: Path, processes: int) -> None:
        self.name, self.dataset, self.assignments = name, dataset, list(assignments)
        self.data_dir, self.workdir, self.processes = data_dir, workdir, processes
        self.monitor = ContractMonitor()
        self.plugin: Any = None  # LoadedPlugin
        self.guarded: Any = None  # LoadedPlugin whose class runs under the monitor
        self.run: Any = None  # RunConfig
        self.run_error: str | None = None
        self.config_source = ""
        self._built: Any = None
        self._fp32: tuple[Any, BaseException | None] | None = None
        self._dirs = 0

    # -- lazily shared state ------------------------------------------------------------------------
    def fresh_dir(self, label: str) -> Path:
        self._dirs += 1
        return self.workdir / f"{self._dirs:02d}-{label}"

    def need_plugin(self) -> None:
        if self.plugin is None:
            raise Skip("the plugin did not load (see discovery)")

    def need_run(self) -> None:
        self.need_plugin()
        if self.run is None:
            raise Skip(f"no usable check configuration (see spec): {self.run_error}")

    def resolve(self) -> None:
        from .presets import PresetError, presets_for
        from .resolve import ConfigError, resolve_run
        from .data.base import DataError

        check_preset = f"{self.name}/check"
        try:
            available = presets_for(self.name)
            if check_preset in available:
                preset_train = available[check_preset].train
                overrides = {k: v for k, v in CHECK_TRAIN.items() if k not in preset_train}
                self.run, _ = resolve_run(self.name, dataset=self.dataset, preset=check_preset,
                                          train_overrides=overrides, assignments=self.assignments)
            else:
                self.run, _ = resolve_run(self.name, dataset=self.dataset, train_overrides=dict(CHECK_TRAIN),
                                          assignments=self.assignments)
        except (ConfigError, PresetError, DataError, ValueError) as error:
            self.run_error = str(error).replace("\n", "; ")
            return
        self.config_source = f"preset {self.run.preset}" if self.run.preset else "the config's defaults"
        if self.assignments:
            self.config_source += f" + {len(self.assignments)} --set"

    def built(self) -> tuple[Any, Any, Any]:
        """(plugin instance, networks, data source), built once as the trainer builds them."""
        if self._built is None:
            from accelerate.utils import set_seed

            from .data.catalog import DataRequest, open_dataset
            from .plugin import Networks

            self.need_run()
            train = self.run.train
            source = open_dataset(self.run.dataset, DataRequest(seed=train.seed, data_dir=self.data_dir,
                                                                resolution=train.resolution))
            info = source.info.model_copy(update={"pack": train.tricks.pack})
            config = self.plugin.cls.Config.model_validate(self.run.params)
            instance = self.guarded.cls(config, info, train.tricks)
            set_seed(train.seed)
            built = instance.build()
            self._built = (instance, built, source)
            if isinstance(built, dict):
                self._built = (instance, Networks(built), source)
        return self._built

    def trainer(self, precision: str, steps: int, path: Path, resume: bool = False) -> Any:
        from .rundir import RunDir
        from .trainer import Trainer

        train = self.run.train.model_copy(update={"precision": precision, "steps": steps})
        run = self.run.model_copy(update={"train": train})
        with _quiet():
            trainer = Trainer(run, self.guarded, RunDir(path, resume=resume), data_dir=self.data_dir, cpu=True,
                              progress=False, resume=resume)
        _no_evaluation(trainer)
        return trainer

    def fit(self, trainer: Any) -> dict[str, Any]:
        with _quiet():
            return trainer.fit()

    def fp32_run(self) -> tuple[Any, BaseException | None]:
        if self._fp32 is None:
            self.need_run()
            trainer, error = None, None
            try:
                trainer = self.trainer("fp32", self.run.train.steps, self.fresh_dir("fp32"))
                self.fit(trainer)
            except Exception as caught:  # noqa: BLE001 - reported by the checks that use this run
                error = caught
            self._fp32 = (trainer, error)
        return self._fp32

    def need_contract(self) -> None:
        if self.monitor.violations:
            raise Skip("the plugin breaks the contract (see contract)")

    # -- the checks ---------------------------------------------------------------------------------
    def check_discovery(self) -> str:
        from . import registry
        from .registry import RegistryError, LoadedPlugin

        try:
            self.plugin = registry.get(self.name)
        except RegistryError as error:
            raise Fail(str(error)) from None
        self.monitor.watch_plugin(self.plugin.cls)
        guarded = guarded_plugin_class(self.plugin.cls, self.monitor)
        self.guarded = LoadedPlugin(self.plugin.source, guarded)
        self.resolve()
        return f"{self.plugin.source.target} from distribution {self.plugin.source.distribution}"

    def check_spec(self) -> str:
        from .data.base import DataError
        from .data.catalog import dataset_kind
        from .spec import ModelSpec

        self.need_plugin()
        spec, config_cls = self.plugin.spec, self.plugin.cls.Config
        again = ModelSpec.model_validate_json(spec.model_dump_json())
        if again != spec:
            raise Fail(f"the spec does not survive a JSON round trip: {spec!r} came back as {again!r}")
        try:
            json.dumps(config_cls.model_json_schema())
        except Exception as error:  # noqa: BLE001
            raise Fail(f"{config_cls.__name__} has no JSON schema ({_error_text(error)}): use JSON-compatible "
                       "field types (numbers, strings, booleans, Literal, lists)") from None
        defaults = config_cls()
        for label, values in (("defaults", defaults), ("check configuration", None)):
            if values is None:
                if self.run is None:
                    raise Fail(f"the check configuration is invalid: {self.run_error}")
                values = config_cls.model_validate(self.run.params)
            try:
                back = config_cls.model_validate_json(values.model_dump_json())
                plain = config_cls.model_validate(json.loads(json.dumps(values.model_dump(mode="json"))))
            except Exception as error:  # noqa: BLE001
                raise Fail(f"{config_cls.__name__} ({label}) does not survive a JSON round trip: "
                           f"{_error_text(error)}") from None
            if back != values or plain != values:
                raise Fail(f"{config_cls.__name__} ({label}) changes in a JSON round trip: {values!r} came back "
                           f"as {back if back != values else plain!r}")
        try:
            kind = dataset_kind(spec.default_dataset)
        except DataError as error:
            raise Fail(f"default_dataset {spec.default_dataset!r}: {error}") from None
        if kind not in spec.data_kinds:
            raise Fail(f"default_dataset {spec.default_dataset!r} is {kind.value} data, but the spec's data_kinds "
                       f"are {sorted(k.value for k in spec.data_kinds)}")
        return (f"spec and {config_cls.__name__} ({len(config_cls.model_fields)} fields) round-trip through JSON; "
                f"check configuration: {self.config_source} on {self.run.dataset}")

    def check_presets(self) -> str:
        from .data.base import DataError
        from .data.catalog import dataset_kind
        from .presets import PresetError, model_presets, validate_preset

        self.need_plugin()
        try:
            found = model_presets(self.name)
        except PresetError as error:
            raise Fail(str(error)) from None
        problems = []
        for name, preset in found.presets.items():
            try:
                validate_preset(name, preset, self.plugin)
                kind = dataset_kind(preset.dataset)
                if kind not in self.plugin.spec.data_kinds:
                    problems.append(f"{preset.origin}: [presets.\"{name}\"] dataset {preset.dataset!r} is "
                                    f"{kind.value} data, which {self.name} does not train on")
            except (PresetError, DataError) as error:
                problems.append(str(error))
        if problems:
            raise Fail("; ".join(p.replace("\n", "; ") for p in problems))
        if not found.presets:
            return "no presets (optional: GANPlugin.presets, or a table in registry.toml)"
        listing = f"{len(found.presets)} valid: {', '.join(found.presets)}"
        if found.clashes:
            raise Warn(f"{listing}; " + "; ".join(found.clashes))
        return listing

    def check_build(self) -> str:
        import torch
        from torch import nn

        from .data.base import DataError
        from .plugin import OptimizerSpec, Phase

        self.need_run()
        try:
            instance, nets, source = self.built()
        except DataError as error:
            raise Fail(f"dataset {self.run.dataset!r}: {error}") from None
        except ContractViolation as error:
            raise Fail(str(error)) from None
        except Exception as error:  # noqa: BLE001
            raise Fail(f"build() failed: {_error_text(error)}") from None
        cls = self.plugin.cls.__name__
        if not isinstance(nets, dict) or not nets or not all(isinstance(m, nn.Module) for m in nets.values()):
            raise Fail(f"{cls}.build() must return a non-empty dict of nn.Module by name, got {nets!r:.80}")
        declared = set(instance.generators) | set(instance.discriminators)
        if declared - set(nets):
            raise Fail(f"{cls} declares networks {sorted(declared - set(nets))} (generators/discriminators) that "
                       f"build() did not return (it returned {sorted(nets)})")
        for name, net in nets.items():
            for key, tensor in [*net.named_parameters(), *net.named_buffers()]:
                if tensor.device.type != "cpu":
                    raise Fail(f"{name}.{key} was built on {tensor.device}: build networks on the CPU, the harness "
                               "places them")
                if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                    raise Fail(f"{name}.{key} is not finite right after build()")
        try:
            phases = instance.phases()
            specs = instance.optimizers()
        except ContractViolation as error:
            raise Fail(str(error)) from None
        except Exception as error:  # noqa: BLE001
            raise Fail(f"phases()/optimizers() failed: {_error_text(error)}") from None
        if not isinstance(phases, list) or not phases or not all(isinstance(p, Phase) for p in phases):
            raise Fail(f"{cls}.phases() must return a non-empty list of Phase, got {phases!r:.80}")
        if len({p.name for p in phases}) != len(phases):
            raise Fail(f"{cls}: phase names must be unique, got {[p.name for p in phases]}")
        for phase in phases:
            unknown = set(phase.updates) - set(nets)
            if unknown:
                raise Fail(f"phase {phase.name!r} updates {sorted(unknown)}, which build() did not return "
                           f"(it returned {sorted(nets)})")
        updated = {n for p in phases for n in p.updates}
        if not isinstance(specs, dict) or updated - set(specs):
            missing = sorted(updated - set(specs)) if isinstance(specs, dict) else sorted(updated)
            raise Fail(f"{cls}.optimizers() has no OptimizerSpec for {missing}, which a phase updates")
        bad = [n for n in updated if not isinstance(specs[n], OptimizerSpec)]
        if bad:
            raise Fail(f"{cls}.optimizers() must give OptimizerSpec objects; {bad} are not")
        sizes = ", ".join(f"{n} {sum(p.numel() for p in m.parameters()):,}" for n, m in nets.items())
        order = ", ".join(f"{p.name}{f' ×{p.repeats}' if p.repeats > 1 else ''} → {'+'.join(p.updates)}"
                          for p in phases)
        return f"{self.run.dataset} {tuple(source.info.shape)}: parameters {sizes}; phases {order}"

    def check_contract(self) -> str:
        self.need_run()
        modules = {c.__module__ for c in self.plugin.cls.__mro__ if not c.__module__.startswith(("ganzoo.harness",
                                                                                                   "builtins", "abc"))}
        for module_name in sorted(modules):
            module = sys.modules.get(module_name)
            for attr, value in vars(module).items() if module else ():
                try:
                    origin = value.__name__ if isinstance(value, type(sys)) else getattr(value, "__module__", "")
                except Exception:  # noqa: BLE001 - exotic objects (lazy proxies) are not Accelerate's
                    continue
                if isinstance(origin, str) and origin.split(".")[0] == "accelerate":
                    raise Fail(f"module {module_name} imports Accelerate ({attr}); the harness owns devices, "
                               "precision and distribution: remove it")
        trainer, error = self.fp32_run()
        if not self.monitor.violations and trainer is not None and error is None:
            try:
                self.sample(trainer.plugin, trainer.sampling_networks(), 4, 0)
            except ContractViolation:
                pass
            except Exception:  # noqa: BLE001 - the samples check reports it
                pass
        if self.monitor.violations:
            raise Fail(self.monitor.violations[0])
        if error is not None:
            raise Skip(f"training stopped before the phases could be watched: {_error_text(error)} (see fp32)")
        phases = ", ".join(repr(p.name) for p in trainer.phases)
        return (f"build(), phases {phases} ({trainer.step} iterations) and sample() left backward, optimizer "
                "steps and device placement to the harness")

    def sample(self, instance: Any, nets: Any, n: int, seed: int) -> Any:
        """sample() as the harness calls it (evaluation.generate), but returning the raw output."""
        import torch

        from .context import NoiseSource
        from .evaluation import balanced_labels, eval_mode

        device = torch.device("cpu")
        noise = NoiseSource(device, seed)
        labels = balanced_labels(n, instance.data.num_classes, device) if instance.spec.conditional else None
        with torch.no_grad(), eval_mode(nets):
            return instance.sample(nets, noise, n, labels)

    def built_for_sampling(self) -> tuple[Any, Any]:
        try:
            instance, nets, _ = self.built()
        except Exception as error:  # noqa: BLE001
            raise Skip(f"the networks did not build (see build): {_error_text(error)}") from None
        if not isinstance(nets, dict):
            raise Skip("build() did not return networks (see build)")
        return instance, nets

    def check_samples(self) -> str:
        import torch

        from .spec import DataKind

        self.need_run()
        instance, nets = self.built_for_sampling()
        try:
            out = self.sample(instance, nets, SAMPLES, 0)
        except ContractViolation as error:
            raise Fail(str(error)) from None
        except Exception as error:  # noqa: BLE001
            raise Fail(f"sample() failed: {_error_text(error)}") from None
        if not isinstance(out, torch.Tensor):
            raise Fail(f"sample() must return a Tensor, got {type(out).__name__}")
        info = instance.data
        expected = (SAMPLES, *info.shape)
        if tuple(out.shape) != expected:
            raise Fail(f"sample(n={SAMPLES}) returned shape {tuple(out.shape)}; the data's samples have shape "
                       f"{tuple(info.shape)}, so expected {expected}")
        if not out.is_floating_point():
            raise Fail(f"sample() returned {out.dtype}; samples must be floating point")
        values = out.detach().float()
        if not torch.isfinite(values).all():
            bad = int((~torch.isfinite(values)).sum())
            raise Fail(f"sample() returned {bad} non-finite values out of {values.numel()}")
        low, high = values.min().item(), values.max().item()
        if info.kind != DataKind.points2d and info.value_range is not None:
            lo, hi = info.value_range
            if low < lo - RANGE_TOLERANCE or high > hi + RANGE_TOLERANCE:
                raise Fail(f"samples lie in [{low:.4g}, {high:.4g}] but {info.name}'s value_range is [{lo:g}, {hi:g}]"
                           " (end the generator with tanh for [-1, 1])")
        return f"shape {tuple(out.shape)} {str(out.dtype).replace('torch.', '')}, values in [{low:.3g}, {high:.3g}]"

    def check_seed(self) -> str:
        import torch

        self.need_run()
        instance, nets = self.built_for_sampling()
        try:
            first, again, other = (self.sample(instance, nets, SAMPLES, seed).detach().float() for seed in (0, 0, 1))
        except ContractViolation as error:
            raise Fail(str(error)) from None
        except Exception as error:  # noqa: BLE001
            raise Fail(f"sample() failed: {_error_text(error)}") from None
        if first.shape != again.shape or not torch.equal(first, again):
            delta = (first - again).abs().max().item() if first.shape == again.shape else float("nan")
            raise Fail(f"samples for the same seed differ (seed 0 twice, max |Δ| = {delta:.3g}): sample() draws "
                       "randomness outside the context it is given; draw noise with ctx.latent(n, dim)")
        if first.shape == other.shape and torch.equal(first, other):
            raise Fail("generator ignores the seed: samples for seeds 0 and 1 are identical; draw the noise with "
                       "ctx.latent(n, dim) (not a fixed or own torch.Generator, not a constant)")
        return "seed 0 twice: identical samples; seeds 0 and 1: different samples"

    def _training(self, precision: str) -> str:
        import torch

        from .guard import NonFiniteStop

        self.need_run()
        self.need_contract()
        if precision == "fp32":
            trainer, error = self.fp32_run()
        else:
            trainer, error = None, None
            try:
                trainer = self.trainer(precision, self.run.train.steps, self.fresh_dir(precision))
                self.fit(trainer)
            except Exception as caught:  # noqa: BLE001
                error = caught
        if isinstance(error, ContractViolation):
            raise Fail(str(error))
        if isinstance(error, NonFiniteStop):
            raise Fail(f"not finite in {precision}: {error}")
        if error is not None:
            raise Fail(f"training in {precision} failed: {_error_text(error)}")
        for name, net in trainer.nets.items():
            for key, p in net.named_parameters():
                if not torch.isfinite(p).all():
                    raise Fail(f"{name}.{key} is not finite after {trainer.step} steps in {precision}")
        losses = {}
        for record in trainer.history:
            losses.update({k.removesuffix("/loss"): v for k, v in record.get("losses", {}).items()
                           if k.endswith("/loss")})
        bad = [k for k, v in losses.items() if not math.isfinite(v)]
        if bad:
            raise Fail(f"losses {bad} are not finite in {precision}")
        shown = ", ".join(f"{k} {v:.4g}" for k, v in losses.items())
        return f"{trainer.step} steps × batch {self.run.train.batch_size}; last losses: {shown or 'none logged'}"

    def check_fp32(self) -> str:
        return self._training("fp32")

    def check_bf16(self) -> str:
        return self._training("bf16")

    def check_resume(self) -> str:
        self.need_run()
        self.need_contract()
        steps = self.run.train.steps
        if steps < 2:
            raise Fail(f"train.steps = {steps}: the resume check needs at least 2 steps")
        whole, error = self.fp32_run()
        if error is not None:
            raise Skip("the uninterrupted fp32 run failed (see fp32)")
        half = steps // 2
        path = self.fresh_dir("resume")
        try:
            self.fit(self.trainer("fp32", half, path))
            resumed = self.trainer("fp32", steps, path, resume=True)
            self.fit(resumed)
        except ContractViolation as caught:
            raise Fail(str(caught)) from None
        except Exception as caught:  # noqa: BLE001
            raise Fail(f"checkpoint at step {half} then resume failed: {_error_text(caught)}") from None
        difference = training_state_difference(whole, resumed)
        if difference is None:
            return f"{half} steps + checkpoint + resume to {steps} = {steps} uninterrupted steps, bit for bit"
        again = self.trainer("fp32", steps, self.fresh_dir("fp32-again"))
        self.fit(again)
        repeat = training_state_difference(whole, again)
        if repeat is not None:
            raise Fail(f"training is not reproducible: two uninterrupted runs with seed {self.run.train.seed} differ "
                       f"in {repeat}; draw randomness from the step context (ctx.latent, ctx.random_labels) and keep "
                       "no state outside the networks")
        raise Fail(f"resumed run differs from the uninterrupted one in {difference} (checkpoint at step {half} of "
                   f"{steps}): state the plugin keeps outside its networks and optimizers (attributes set during "
                   "training, tensors that are not parameters or buffers) is not checkpointed")

    def check_data_parallel(self) -> str:
        import logging

        import torch.multiprocessing as mp
        from torch.multiprocessing.spawn import ProcessException

        self.need_run()
        self.need_contract()
        world = self.processes
        out = self.fresh_dir("data-parallel")
        out.mkdir(parents=True)
        payload = {"model": self.name, "run": self.run.model_dump_json(),
                   "data_dir": str(self.data_dir) if self.data_dir else None}
        logging.getLogger("torch.multiprocessing.spawn").setLevel(logging.ERROR)  # its SIGTERM notes are noise
        context = mp.start_processes(_data_parallel_worker, args=(world, _free_port(), payload, str(out)),
                                     nprocs=world, join=False, start_method="spawn")
        deadline = time.monotonic() + DATA_PARALLEL_TIMEOUT_S
        try:
            while not context.join(timeout=1.0):
                if time.monotonic() > deadline:
                    for process in context.processes:
                        process.kill()
                    raise Fail(f"{world} processes did not finish within {DATA_PARALLEL_TIMEOUT_S:.0f} s (a "
                               "collective waits forever when ranks run different phases or numbers of steps)")
        except ProcessException:
            errors = sorted(out.glob("rank*.error"))
            if errors:
                rank = errors[0].name.removesuffix(".error")
                raise Fail(f"{rank} failed: {errors[0].read_text().splitlines()[0]}") from None
            logs = " | ".join(p.read_text().strip().splitlines()[-1] for p in sorted(out.glob("rank*.log"))
                              if p.read_text().strip())
            raise Fail(f"a process died without a Python error: {logs or 'no output'}") from None
        results = [json.loads((out / f"rank{r}.json").read_text()) for r in range(world)]
        for rank, result in enumerate(results):
            dist = result["distributed"]
            if dist["processes"] != world:
                raise Fail(f"rank {rank} saw {dist['processes']} processes, not {world}")
            if result["status"] != "completed":
                raise Fail(f"rank {rank} ended with status {result['status']!r}")
            if dist["replicas_identical"] is not True:
                raise Fail(f"the {world} processes' copies of the networks differ after {result['steps']} steps: the "
                           "plugin changes weights outside the optimizers' steps in a rank-dependent way, or keeps "
                           "parameters that no phase updates in sync")
        return (f"{world} gloo processes × batch {self.run.train.batch_size} "
                f"(global {world * self.run.train.batch_size}): replicas bit-identical after {results[0]['steps']} steps")


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
        checker = _Checker(name, dataset, assignments, data_dir, root, processes)
        stack.enter_context(checker.monitor.installed())
        for check in ["discovery", *[c for c in selected if c != "discovery"]]:
            begin = time.perf_counter()
            method = getattr(checker, "check_" + check.replace("-", "_"))
            try:
                status, detail = "pass", method()
            except Fail as outcome:
                status, detail = "fail", str(outcome)
            except Warn as outcome:
                status, detail = "warn", str(outcome)
            except Skip as outcome:
                status, detail = "skip", str(outcome)
            except Exception as error:  # noqa: BLE001 - a crash inside a check is that check's failure
                status, detail = "fail", _error_text(error)
            if check == "discovery" and check not in selected and status == "pass":
                continue  # always run (everything needs the plugin), shown only when asked for or failing
            result = CheckResult(check, status, detail, time.perf_counter() - begin)
            report.results.append(result)
            if on_result is not None:
                on_result(result)
        report.dataset = checker.run.dataset if checker.run is not None else dataset
        report.config = checker.run.model_dump(mode="json") if checker.run is not None else None
    report.seconds = time.perf_counter() - started
    return report
