"""The contract-observation machinery behind the ``contract`` check: torch is patched while plugin
code runs, so a plugin doing the harness's work (backward, optimizer steps, device moves) is caught
in the act, with the plugin's file and line.

While plugin code runs (``build``, ``optimizers``, ``phases``, every phase step, ``after_update``, ``after_step``,
``sample``) the check patches ``Tensor.backward``, ``torch.autograd.backward``/``grad``,
``Tensor.to``/``cuda``/``cpu``, ``Module.to``/``cuda``/``cpu`` and registers a global optimizer step
pre-hook. A call made from the plugin's own code (not from torch or from ``ganzoo.harness``, e.g.
``ctx.gradient_penalty``) is a violation and stops the step with the file and line. The harness's own
backward and optimizer steps run outside the plugin's phase step (see ``Trainer._run_phase``), so
they are never flagged. ``.to(dtype)`` is allowed, and device moves count only when made by the
plugin's own packages (a library it calls, such as a timm backbone doing ``.to(x.device)``, is not
the plugin's doing).

The check session builds and trains the plugin through :func:`guarded_plugin_class`, so every check
that runs plugin code may meet a violation; the ``contract`` check reports the first one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any


def package_dir(module: Any) -> str:
    return os.path.dirname(os.path.abspath(module.__file__)) + os.sep


def where(filename: str, lineno: int) -> str:
    """``folder/file.py:line``: where plugin code did something, as a check reports it."""
    parts = Path(filename).parts
    return f"{'/'.join(parts[-2:])}:{lineno}"


class ContractViolation(RuntimeError):
    """Plugin code did something the harness owns (backward, optimizer steps, device moves)."""


class ContractMonitor:
    """Watches plugin code for calls the harness owns; see the module docstring."""

    def __init__(self) -> None:
        import torch

        self.scope: str | None = None
        self.violations: list[str] = []
        harness = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # ganzoo.harness, not check/
        self._internal = (package_dir(torch), harness)
        self._this_file = os.path.abspath(__file__)
        self._plugin_code: tuple[str, ...] = ()  # files/folders of the plugin's own packages (for device moves)

    def watch_plugin(self, cls: type) -> None:
        """Device moves count when the plugin's own packages make them (not a library it calls, e.g. timm)."""
        roots = set()
        for klass in cls.__mro__:
            parts = klass.__module__.split(".")
            if parts[0] in ("builtins", "abc") or klass.__module__.startswith("ganzoo.harness"):
                continue
            # the outermost package; under `ganzoo` (one package for harness and zoo) the one below it
            for end in range(2 if parts[0] == "ganzoo" else 1, len(parts) + 1):
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
                return f" (at {where(filename, frame.f_lineno)})"
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
    from ..contract.gan_plugin import Phase

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
                        after_update=monitor.wrap(p.after_update, f"phase {p.name!r} after_update"),
                        after_step=monitor.wrap(p.after_step, f"phase {p.name!r} after_step"))
                for p in phases]

    def sample(self, nets, ctx, n, labels=None):
        with monitor.scope_of("sample()"):
            return cls.sample(self, nets, ctx, n, labels)

    namespace = {"build": build, "optimizers": optimizers, "phases": phases, "sample": sample,
                 "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}
    return type(cls.__name__, (cls,), namespace)
