"""CLI conventions a newcomer meets first: start-up without torch, --version, help and `ganzoo list` at 80 columns."""

import json
import subprocess
import sys

from ..cli_helpers import ganzoo


def test_importing_the_cli_loads_neither_torch_nor_matplotlib():
    """`ganzoo --help` and a typo must not pay for torch (timings: bench/test_bench_startup.py)."""
    code = ("import json, sys, ganzoo.harness.cli.main; "
            "print(json.dumps([m for m in ('torch', 'matplotlib', 'numpy', 'accelerate') if m in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_version():
    result = ganzoo("--version")
    assert result.returncode == 0 and result.stdout.startswith("ganzoo ") and result.stdout.split()[1][0].isdigit()


def test_help_at_80_columns_names_arguments_and_shows_no_type_noise():
    for command, argument in (("run", "MODEL"), ("sample", "RUN_DIR"), ("eval", "RUN_DIR"), ("report", "RUN_DIR"),
                              ("translate", "RUN_DIR"), ("show", "MODEL"), ("check", "MODEL")):
        result = ganzoo(command, "--help", columns=80)
        assert result.returncode == 0, result.stderr
        usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
        assert usage.rstrip().rstrip("]").endswith(argument), usage  # [RUN_DIR]: eval's is optional (--samples)
        assert "{" not in result.stdout and "<bool>" not in result.stdout and "<list" not in result.stdout
        assert max(map(len, result.stdout.splitlines())) <= 80
    run_help = ganzoo("run", "--help", columns=80).stdout
    assert "KEY=VALUE" in run_help and "the preset's" in run_help


def test_list_at_80_columns_keeps_titles_and_arxiv_ids_whole():
    result = ganzoo("list", columns=80)
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    assert max(map(len, result.stdout.splitlines())) <= 80
    for arxiv in ("1704.00028", "1406.2661", "1703.10593"):
        assert arxiv in result.stdout


def test_a_typo_is_a_short_usage_error():
    result = ganzoo("rnu")
    assert result.returncode == 2 and "Did you mean 'run'" in result.stderr and "Traceback" not in result.stderr


LIST_WITHOUT_PLUGIN_IMPORTS = """
import atexit, sys
from ganzoo.harness.cli.main import main
sys.argv = ["ganzoo", "list", "--json"]
atexit.register(lambda: print("torch loaded:", "torch" in sys.modules, file=sys.stderr))  # main() ends the process
main()
"""


def test_list_is_remembered_until_a_plugin_changes(plugin_site):
    from .. import plugin_sources as src

    site = plugin_site("tiny-dist", {"tiny-gan": "tiny_plugin:TinyGAN"}, {"tiny_plugin": src.GOOD})
    first = ganzoo("list", "--json")
    assert first.returncode == 0 and "Third-party tiny GAN" in first.stdout, first.stderr
    again = subprocess.run([sys.executable, "-c", LIST_WITHOUT_PLUGIN_IMPORTS], capture_output=True, text=True,
                           timeout=120)
    assert "torch loaded: False" in again.stderr, again.stderr  # answered from the remembered listing
    assert json.loads(again.stdout) == json.loads(first.stdout)
    (site / "tiny_plugin.py").write_text(src.GOOD.replace("Third-party tiny GAN", "Renamed tiny GAN"))
    changed = ganzoo("list", "--json")
    assert "Renamed tiny GAN" in changed.stdout and "Third-party tiny GAN" not in changed.stdout
