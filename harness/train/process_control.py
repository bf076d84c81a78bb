"""The training process around the loop: how it stops, and its garbage collector while it starts.

**Stopping cleanly**: SIGINT/SIGTERM or a time limit end the run after the current step, with a checkpoint.

A stop asked for on one process reaches the others at the next gradient exchange (``synced``),
so every rank stops after the same step. A second signal stops at once, without a checkpoint.

**No cyclic garbage collection while the ``ganzoo run`` command starts up.**
Importing torch, Accelerate, pydantic and the harness leaves ~400,000 objects that live until the
process ends. CPython runs a full collection each time its long-lived objects grow by a quarter, so a
``ganzoo run`` paid five full collections before its first iteration (0.05 → 0.29 s each, 0.8 s in all
on this project's 2-core CPU, measured under load) and one more after the loop (0.36 s), scanning those
same objects every time. The command defers collection while it starts (:func:`defer_collection`,
called by the CLI), and the trainer calls :func:`settle` just before its first iteration:
``gc.freeze()`` moves everything alive into the permanent generation, which is never scanned, and
collection resumes for what training allocates. Startup's own cyclic garbage, if any, is kept: it is
bounded and small. Code that imports ganzoo is unaffected: :func:`settle` does nothing unless the
command deferred collection.
"""

from __future__ import annotations

import gc
import signal
import threading
from typing import Any

TIME_LIMIT = "time limit"  # a stop reason, like a signal's name


class StopRequest:
    def __init__(self, announce: bool) -> None:
        self.reason: str | None = None  # this process's: a signal's name, or TIME_LIMIT
        self.synced = False  # some process asked to stop (data parallel: learnt at a gradient exchange)
        self.announce = announce  # print what happens (rank 0)
        self.step = 0  # the completed step, for the message
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.reason is not None:  # a second signal: stop now, without a checkpoint
            signal.signal(signum, signal.SIG_DFL)
            raise KeyboardInterrupt
        self.reason = signal.Signals(signum).name
        if self.announce:
            print(f"\n{self.reason}: finishing step {self.step + 1}, then writing a checkpoint "
                  "(send it again to stop at once)", flush=True)


_deferred = False


def defer_collection() -> None:
    """Turn the cyclic collector off until :func:`settle` (the ``ganzoo run`` command's start)."""
    global _deferred
    if gc.isenabled():
        gc.disable()
        _deferred = True


def settle() -> None:
    """If collection was deferred: freeze what is alive now and collect again from here on."""
    global _deferred
    if _deferred:
        gc.freeze()
        gc.enable()
        _deferred = False
