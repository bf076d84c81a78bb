"""docs/python-api.md stays true: its ```python blocks run, in order, in one namespace, from a temporary folder."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_worked_example_runs(tmp_path, monkeypatch):
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 6, "the worked example lost its code blocks"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "python_api_doc"}
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{DOC.name} block {index + 1}", "exec"), namespace)
        except Exception as error:  # name the block that broke
            raise AssertionError(f"docs/python-api.md, python block {index + 1} failed: {error!r}\n{block}") from error
    assert (tmp_path / "runs" / "ring" / "summary.json").is_file() and (tmp_path / "ring-gan.safetensors").is_file()
