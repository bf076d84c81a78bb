"""The run directory: the only place a run writes, and never over someone else's files.

    config.json     fully resolved RunConfig (+ data provenance, the data folder it read)
    metrics.jsonl   one JSON record per log interval / evaluation
    summary.json    final figures, throughput, environment and versions
    samples/        sample plots over time;  checkpoints/  training state
    .ganzoo.lock    the claim: created exclusively by the run that made the folder, and locked
                    (``flock``) by the process writing into it, so two runs never mix their files

A write that fails because the disk is full (or the folder is read-only) raises
:class:`StorageError`, one line saying what was kept, instead of an OSError traceback.
"""

from __future__ import annotations

import errno
import json
import math
import os
import socket
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..contract.errors import RunDirError, StorageError
LOCK = ".ganzoo.lock"
#: write errors that mean "no room": a full disk or a reached quota
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def out_of_space(error: BaseException) -> bool:
    """Whether ``error`` is a write that failed for lack of space. torch.save reports ENOSPC as
    ``RuntimeError: [enforce fail at inline_container.cc:…] . unexpected pos …`` (its zip writer)."""
    if isinstance(error, OSError):
        return error.errno in NO_SPACE
    text = str(error)
    return isinstance(error, RuntimeError) and any(t in text for t in ("unexpected pos", "No space left",
                                                                      "file write failed"))


def no_space(path: Path, kept: str) -> StorageError:
    return StorageError(f"no space left on the device of {path.parent} while writing {path.name}; {kept}")


def _describe(error: OSError) -> str:
    return error.strerror or str(error)


def default_run_dir(model: str, dataset: str, root: Path = Path("runs")) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    safe_dataset = dataset.replace(":", "-").replace("/", "_")[-40:]
    return root / f"{model}-{safe_dataset}-{stamp}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no inf/nan; keep them readable instead of crashing
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``path`` whole or not at all (temporary file + rename); a full disk leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
            tmp = handle.name
            json.dump(_jsonable(data), handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException as error:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if out_of_space(error):
            raise no_space(path, f"{path.name} is unchanged") from None
        raise


class RunDir:
    """``resume=True``: the directory may hold an earlier run (continued with ``--resume``).

    ``writable`` is False on every process but rank 0 of a multi-process run: there the write
    methods do nothing, so only one process ever writes.
    """

    def __init__(self, path: Path, *, resume: bool = False) -> None:
        self.path = Path(path)
        self.samples = self.path / "samples"
        self.checkpoints = self.path / "checkpoints"
        self.writable = True
        self._held: int | None = None  # the locked claim's file descriptor while this process writes
        if not resume and self.path.exists() and any(self.path.iterdir()):
            raise RunDirError(f"run directory {self.path} already exists and is not empty; "
                              "choose another --out, or continue it with --resume")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if not resume:
                self._claim()
        except OSError as error:
            if isinstance(error, RunDirError):
                raise
            raise StorageError(f"cannot create the run directory {self.path}: {_describe(error)}; "
                               "choose a writable --out") from None

    # -- one run per directory ------------------------------------------------------------------------
    def _claim(self) -> None:
        """Create the claim file exclusively: of two runs started on one --out, exactly one gets it."""
        try:
            handle = os.open(self.path / LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise RunDirError(f"run directory {self.path} was just claimed by another ganzoo run "
                              f"({self._owner()}); choose another --out") from None
        with os.fdopen(handle, "w") as claim:
            claim.write(_owner_text())

    def _owner(self) -> str:
        try:
            return (self.path / LOCK).read_text().strip() or "owner unknown"
        except OSError:
            return "owner unknown"

    def hold(self) -> None:
        """Lock the directory for this process while it writes (released by :meth:`release` or at exit):
        a second `ganzoo run --resume` of the same run stops here, before it changes anything."""
        if not self.writable or self._held is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock on this platform: the exclusive claim still holds
            return
        try:
            handle = os.open(self.path / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as error:
            raise StorageError(f"cannot write into the run directory {self.path}: {_describe(error)}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise RunDirError(f"run directory {self.path} is in use by another ganzoo process ({self._owner()}); "
                              "wait for it to end (or stop it) before resuming, or choose another --out") from None
        os.ftruncate(handle, 0)
        os.write(handle, _owner_text().encode())
        self._held = handle

    def release(self) -> None:
        if self._held is not None:
            os.close(self._held)  # closing the descriptor drops the flock
            self._held = None

    def remove_temporaries(self) -> list[Path]:
        """Delete the half-written files (``*.tmp``) a killed run left; only the lock holder may."""
        if self._held is None:
            return []
        stray = [p for folder in (self.path, self.checkpoints) if folder.is_dir()
                 for p in folder.iterdir() if p.name.endswith(".tmp") and p.is_file()]
        for path in stray:
            path.unlink(missing_ok=True)
        return stray

    def write_config(self, config: dict) -> None:
        if self.writable:
            write_json_atomic(self.path / "config.json", config)

    def read_config(self) -> dict:
        path = self.path / "config.json"
        if not path.is_file():
            raise RunDirError(f"{self.path} has no config.json: it is not a ganzoo run directory")
        return json.loads(path.read_text())

    def write_summary(self, summary: dict) -> None:
        if self.writable:
            write_json_atomic(self.path / "summary.json", summary)

    def append_metrics(self, record: dict) -> None:
        if not self.writable:
            return
        path = self.path / "metrics.jsonl"
        line = json.dumps(_jsonable(record)) + "\n"
        size = path.stat().st_size if path.exists() else 0
        try:
            with open(path, "a") as handle:
                handle.write(line)
        except OSError as error:
            if path.exists() and path.stat().st_size > size:
                os.truncate(path, size)  # never leave half a record: --resume reads every line
            if out_of_space(error):
                raise no_space(path, f"{path.name} keeps every record before step {record.get('step')}") from None
            raise

    def truncate_metrics(self, step: int) -> None:
        """Drop records after ``step`` (written after the checkpoint a resumed run continues from)."""
        path = self.path / "metrics.jsonl"
        if not self.writable or not path.exists():
            return
        kept = [line for line in path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]
        tmp = None
        try:
            with tempfile.NamedTemporaryFile("w", dir=self.path, delete=False, suffix=".tmp") as handle:
                tmp = handle.name
                handle.write("".join(line + "\n" for line in kept))
            os.replace(tmp, path)
        except BaseException as error:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if out_of_space(error):
                raise no_space(path, f"{path.name} is unchanged") from None
            raise

    def read_metrics(self) -> list[dict]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _owner_text() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}, since {datetime.now().strftime('%Y-%m-%d %H:%M:%S')}"
