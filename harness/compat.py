"""Names kept so plugins written for ganzoo 0.1 import.

ganzoo 0.1's docs/plugins.md published two import paths that the package has since outgrown:

| 0.1 import path | what it is now |
| --- | --- |
| ``from ganzoo.harness.spec import ModelSpec, ModelConfig, DataInfo, DataKind, Family`` | ``harness/contract/model_spec.py`` |
| ``from ganzoo.harness import losses`` | ``harness/contract/gan_losses.py`` |

New code imports all of these from ``ganzoo.harness.plugin``. This module is the one place that knows
the old paths: :data:`MODULES` maps each to the module now behind it, and :func:`alias` makes the old
path *be* that module (``ganzoo.harness.spec is ganzoo.harness.contract.model_spec``), so an old plugin
sees the very same classes and functions as a new one. An import path needs a module file to find, so
``harness/spec.py`` and ``harness/losses.py`` remain, each one call to :func:`alias` (a module
``__getattr__`` in ``harness/__init__.py`` could serve ``from ganzoo.harness import losses`` but not
``import ganzoo.harness.spec`` or ``from ganzoo.harness.spec import X``).
``tests/test_architecture.py::test_published_import_paths_still_work`` keeps them working.

Nothing here is imported by the harness itself.
"""

from __future__ import annotations

import importlib
import sys

#: ganzoo 0.1 import path → the module now behind it (imported only when the old path is: the losses load torch,
#: the spec does not)
MODULES: dict[str, str] = {"ganzoo.harness.spec": "ganzoo.harness.contract.model_spec",
                           "ganzoo.harness.losses": "ganzoo.harness.contract.gan_losses"}


def alias(name: str) -> None:
    """Make the 0.1 module ``name`` the module behind it: the import system returns ``sys.modules[name]``
    once the module's own code has run, so ``import ganzoo.harness.spec`` gives ``contract.model_spec``."""
    sys.modules[name] = importlib.import_module(MODULES[name])


__all__ = ["MODULES", "alias"]
