"""The `ganzoo` process ends without module teardown, yet like a normal exit: its status, the output
still buffered, non-daemon threads and atexit handlers are all kept (harness.cli.main)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ganzoo.harness.cli.main import exit_code

ENDS = """
import atexit, sys, threading, time
from pathlib import Path
from ganzoo.harness.cli.main import exit_process
folder = Path(sys.argv[1])
def late():
    time.sleep(0.3)
    (folder / "thread").write_text("joined")
threading.Thread(target=late).start()
atexit.register(lambda: (folder / "atexit").write_text("ran"))
sys.stdout.write("buffered, no newline")
exit_process(int(sys.argv[2]))
print("never reached")
"""


@pytest.mark.parametrize("status", [0, 3])
def test_exit_process_keeps_status_output_threads_and_atexit(tmp_path, status):
    result = subprocess.run([sys.executable, "-c", ENDS, str(tmp_path), str(status)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == status
    assert result.stdout == "buffered, no newline"
    assert (tmp_path / "thread").read_text() == "joined" and (tmp_path / "atexit").read_text() == "ran"


def test_exit_codes_follow_system_exit(capsys):
    assert exit_code(None) == 0 and exit_code(2) == 2 and exit_code(130) == 130
    assert exit_code("fatal: reason") == 1 and "fatal: reason" in capsys.readouterr().err


PROBE_GC = """
import atexit, gc, json, sys
from pathlib import Path
from ganzoo.harness.train.trainer import Trainer
folder = Path(sys.argv[1])
seen = {}
original = Trainer.train_iteration
def first_iteration(self, measure):
    if not seen:
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    return original(self, measure)
Trainer.train_iteration = first_iteration
atexit.register(lambda: (folder / "gc.json").write_text(json.dumps({**seen, "enabled_at_exit": gc.isenabled()})))
from ganzoo.harness.cli import main
sys.argv = ["ganzoo", *sys.argv[2:]]
main()
"""


@pytest.mark.parametrize("command", [["run", "gan", "--steps", "2", "--no-progress", "--set", "hidden=8",
                                      "--set", "train.evaluate=false"], ["list"]])
def test_ganzoo_run_collects_no_garbage_until_training_starts_then_freezes_and_collects(tmp_path, command):
    """harness.train.process_control: `ganzoo run` starts with the collector off; at the first iteration
    everything alive is frozen and collection is back on. Other commands never turn it off."""
    if command[0] == "run":
        command = [*command, "--out", str(tmp_path / "run")]
    result = subprocess.run([sys.executable, "-c", PROBE_GC, str(tmp_path), *command], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = json.loads((tmp_path / "gc.json").read_text())
    assert seen["enabled_at_exit"] is True
    if command[0] == "run":
        assert seen["enabled"] is True and seen["frozen"] > 10_000, seen
        assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps"] == 2
