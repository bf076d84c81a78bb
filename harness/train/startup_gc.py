"""No cyclic garbage collection while the ``ganzoo run`` command starts up.

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


__all__ = ["defer_collection", "settle"]
