"""Write a real, importable distribution into a folder on sys.path: modules + ``*.dist-info``.

importlib.metadata finds it exactly as it finds a pip-installed package, so tests exercise
the true discovery path, not a mock of it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def install_distribution(site: Path, dist_name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist_name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n")
    lines = ["[ganzoo.models]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (info / "RECORD").write_text("")
