"""How a conformance check ends, shared by every family of checks: the Skip/Fail/Warn outcomes and
the one-line, file-and-line error text a check reports when plugin code raises.

Kept apart (it imports nothing of the harness) so the check modules and the contract monitor can
all use it without importing one another.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any


class Skip(Exception):
    """A check that cannot run because another one failed; the message names it."""


class Fail(Exception):
    """A failed check with its precise detail."""


class Warn(Exception):
    """A check that passed with a caveat."""


def package_dir(module: Any) -> str:
    return os.path.dirname(os.path.abspath(module.__file__)) + os.sep


def where(filename: str, lineno: int) -> str:
    parts = Path(filename).parts
    return f"{'/'.join(parts[-2:])}:{lineno}"


def error_text(error: BaseException) -> str:
    """'Type: message (file:line)', the line being the innermost frame outside torch."""
    import torch

    torch_dir = package_dir(torch)
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(f.filename).startswith(torch_dir)]
    location = f" (at {where(frames[-1].filename, frames[-1].lineno)})" if frames else ""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}{location}" if message else f"{type(error).__name__}{location}"
