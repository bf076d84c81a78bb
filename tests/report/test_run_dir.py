"""The run directory: one run per folder (an atomic claim, a lock while writing), and writes that fail
for lack of space or permission end in one line that says what was kept."""

import errno
import io
import json
import threading

import pytest

from ganzoo.harness.report import rundir
from ganzoo.harness.report.rundir import LOCK, RunDir, write_json_atomic
from ganzoo.harness.contract.errors import RunDirError, StorageError


def test_of_runs_started_together_on_one_folder_exactly_one_claims_it(tmp_path):
    target, barrier = tmp_path / "run", threading.Barrier(8)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()  # all at the same moment: the check-then-create race
        try:
            RunDir(target)
            outcomes.append("claimed")
        except RunDirError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("claimed") == 1, outcomes
    assert all("choose another --out" in o for o in outcomes if o != "claimed")
    assert [p.name for p in target.iterdir()] == [LOCK]


def test_a_second_claim_of_an_empty_folder_is_refused(tmp_path):
    RunDir(tmp_path / "run")
    with pytest.raises(RunDirError, match="choose another --out"):
        RunDir(tmp_path / "run")


def test_a_folder_being_written_cannot_be_resumed_by_another_process(tmp_path):
    writer = RunDir(tmp_path / "run")
    writer.hold()
    other = RunDir(tmp_path / "run", resume=True)
    with pytest.raises(RunDirError, match=r"in use by another ganzoo process \(pid \d+"):
        other.hold()
    writer.release()
    other.hold()  # free again once the writer is done
    other.release()


def test_stray_temporaries_of_a_killed_run_are_removed_by_the_next_holder(tmp_path):
    run = RunDir(tmp_path / "run")
    run.checkpoints.mkdir()
    stray = [run.checkpoints / ".step_0000010.pt.abc123.tmp", run.path / "tmpx1y2.tmp"]
    for path in stray:
        path.write_bytes(b"half")
    assert run.remove_temporaries() == []  # only the holder of the lock may delete
    run.hold()
    assert sorted(run.remove_temporaries()) == sorted(stray)
    assert not any(p.exists() for p in stray)
    run.release()


def test_an_unwritable_folder_is_a_storage_error_not_a_traceback(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(rundir.Path, "mkdir", refuse)
    with pytest.raises(StorageError, match=r"cannot create the run directory .*Permission denied; choose a "
                                           r"writable --out"):
        RunDir(tmp_path / "run")


def test_a_full_disk_leaves_summary_and_metrics_whole(tmp_path, monkeypatch):
    run = RunDir(tmp_path / "run")
    run.write_summary({"status": "old"})
    run.append_metrics({"step": 1, "loss": 0.5})

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rundir.json, "dump", no_room)
    with pytest.raises(StorageError, match="no space left .* summary.json is unchanged"):
        run.write_summary({"status": "new"})
    assert json.loads((run.path / "summary.json").read_text()) == {"status": "old"}

    class HalfWriter(io.StringIO):
        def __init__(self, path):
            super().__init__()
            self.handle = open(path, "a")

        def write(self, text):
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __exit__(self, *exc):
            self.handle.close()
            return False

    monkeypatch.setattr(rundir, "open", lambda path, mode="r": HalfWriter(path), raising=False)
    with pytest.raises(StorageError, match="metrics.jsonl keeps every record before step 2"):
        run.append_metrics({"step": 2, "loss": 0.25})
    monkeypatch.undo()
    assert run.read_metrics() == [{"step": 1, "loss": 0.5}]  # no half line for --resume to choke on
    assert not list(run.path.glob("*.tmp"))


def test_write_json_atomic_reports_enospc_from_the_rename_too(tmp_path, monkeypatch):
    def no_room(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rundir.os, "replace", no_room)
    with pytest.raises(StorageError, match="no space left"):
        write_json_atomic(tmp_path / "x.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []
