"""Stopping cleanly: SIGINT/SIGTERM or a time limit end the run after the current step, with a checkpoint.

A stop asked for on one process reaches the others at the next gradient exchange (``synced``),
so every rank stops after the same step. A second signal stops at once, without a checkpoint.
"""

from __future__ import annotations

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
