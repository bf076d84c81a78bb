"""The `ganzoo` process ends without module teardown, yet like a normal exit: its status, the output
still buffered, non-daemon threads and atexit handlers are all kept (harness.cli.process_exit)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ganzoo.harness.cli.process_exit import exit_code

ENDS = """
import atexit, sys, threading, time
from pathlib import Path
from ganzoo.harness.cli.process_exit import exit_process
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
