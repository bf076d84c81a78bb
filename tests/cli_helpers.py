"""The `ganzoo` command from a test: in a subprocess as a user runs it, or in this process where only its answer
matters (tests/cli, and the tests of the commands' errors elsewhere)."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys


def ganzoo(*args, cwd=None, columns=200, env=None, timeout=300):
    """The real CLI in a subprocess; ``env`` adds (or, with None values, removes) environment variables."""
    environment = {**os.environ, "COLUMNS": str(columns)}  # rich wraps tables at 80 columns off a tty
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = str(value)
    return subprocess.run([sys.executable, "-m", "ganzoo.harness.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=environment)


def ganzoo_here(*args, env=None) -> subprocess.CompletedProcess:
    """The same command in this process, through the same ``_run_app`` that ``ganzoo`` runs (parsing, the
    command, an error as one line and exit code 2), for checks of what a command says where a subprocess would
    add only its start-up (~3 s with torch). ``env`` as for :func:`ganzoo`, restored afterwards."""
    main = importlib.import_module("ganzoo.harness.cli.main")
    saved_env, saved_argv = dict(os.environ), sys.argv
    for key, value in (env or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = str(value)
    stdout, stderr = io.StringIO(), io.StringIO()
    sys.argv = ["ganzoo", *map(str, args)]
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main._run_app()
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    finally:
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["ganzoo", *args], code, stdout.getvalue(), stderr.getvalue())
