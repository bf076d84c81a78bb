"""Why a checkout has an ``__init__.py``: so that ``import ganzoo`` works beside it.

Python imports this file as ``ganzoo`` only when it runs in the folder that *holds* a checkout named
``ganzoo``: the folder then shadows the installed package, and without this file it would be an empty
namespace package (``ganzoo.load`` → AttributeError). This runs the real package's one file,
``harness/_ganzoo/__init__.py``, so ``ganzoo.train``/``ganzoo.load`` work and ``ganzoo.harness`` /
``ganzoo.zoo`` resolve to this checkout's folders, exactly as the editable install maps them. Nothing
heavy is imported here. (pytest, which sees this folder as a package, imports it too; it is harmless.)
"""

from pathlib import Path as _Path

_REAL = _Path(__file__).resolve().parent / "harness" / "_ganzoo" / "__init__.py"
exec(compile(_REAL.read_text(encoding="utf-8"), str(_REAL), "exec"))  # noqa: S102 - our own file, by path
