"""The job store: permissions, refusal of a second job, dead runners, resume, ledger."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.ledger import LedgerEntry, LedgerScope
from imapcopy_tui.engine.progress import CopyIssue, FolderCounts
from imapcopy_tui.errors import JobExistsError
from imapcopy_tui.storage.liveness import ProcessIdentity, process_start_ticks
from imapcopy_tui.storage.store import JobLedger, JobState, JobStore

SRC = Account(host="imap.a.example", login="alice@a.example", password="s3cret-src", port=993)
DST = Account(host="imap.b.example", login="alice@b.example", password="s3cret-dst", port=993)


def test_database_is_private(tmp_path: Path) -> None:
    """The file is 0600 in a 0700 directory it created."""
    store = JobStore(tmp_path / "new" / "jobs.sqlite3")
    store.create_job(SRC, DST)
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
    for path in (tmp_path / "new").iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_second_job_for_the_same_source_is_refused(tmp_path: Path) -> None:
    """While a job is queued or running, another for the same account is refused."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create_job(SRC, DST)
    store.start(job.id)
    with pytest.raises(JobExistsError, match="a sync task for this account already exists"):
        store.create_job(SRC, DST)
    assert len(store.jobs()) == 1


def test_job_of_a_dead_process_is_interrupted_and_resumed(tmp_path: Path) -> None:
    """A running job whose process is gone reads as interrupted; the next sync reuses it."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create_job(SRC, DST)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = ProcessIdentity(child.pid, process_start_ticks(child.pid))
    child.wait()
    store.start(job.id, identity)
    assert store.get(job.id).state is JobState.INTERRUPTED
    resumed = store.create_job(SRC, DST)
    assert resumed.id == job.id
    assert resumed.state is JobState.QUEUED


def test_reused_pid_is_not_mistaken_for_the_runner() -> None:
    """Same pid, other start time: another process, so the runner is dead."""
    me = ProcessIdentity.current()
    assert me.is_alive()
    assert not ProcessIdentity(me.pid, (me.start_ticks or 0) + 1).is_alive()


def test_progress_and_issues_are_readable_by_another_connection(tmp_path: Path) -> None:
    """Counters written by the copy are seen by a second store on the same file."""
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(path)
    job = store.create_job(SRC, DST)
    store.start(job.id)
    inbox = FolderCounts("INBOX", "INBOX", total=10, copied=4, present=1, bytes_copied=400)
    store.save_progress(job.id, [inbox], [CopyIssue("too big", folder="INBOX", uid=7)])
    seen = JobStore(path).get(job.id)
    assert (seen.messages_total, seen.messages_copied, seen.messages_present) == (10, 4, 1)
    assert seen.state is JobState.RUNNING
    assert [str(e) for e in seen.errors] == ["INBOX, message UID 7: too big"]
    assert seen.folders[0].bytes_copied == 400


def test_ledger_tells_this_job_copies_from_others(tmp_path: Path) -> None:
    """Entries copied by the current job count as copied; others as already present."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    scope = LedgerScope("a", "INBOX", 1, "b", "INBOX", 2)
    JobLedger(store, 1).record(scope, [LedgerEntry(5, "f5", 50, True)])
    JobLedger(store, 1).record(scope, [LedgerEntry(6, "f6", 60, False)])
    assert JobLedger(store, 1).entries(scope)[5].copied_by_this_job
    assert not JobLedger(store, 1).entries(scope)[6].copied_by_this_job
    assert not JobLedger(store, 2).entries(scope)[5].copied_by_this_job
    other_validity = LedgerScope("a", "INBOX", 99, "b", "INBOX", 2)
    assert JobLedger(store, 1).entries(other_validity) == {}


def test_no_password_is_stored(tmp_path: Path) -> None:
    """Neither password appears anywhere in the database files."""
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(path)
    job = store.create_job(SRC, DST)
    store.start(job.id)
    store.end(job.id, JobState.FINISHED)
    store.close()
    for file in tmp_path.iterdir():
        data = file.read_bytes()
        assert b"s3cret" not in data, file


def test_job_whose_creator_died_before_any_runner_is_interrupted(tmp_path: Path) -> None:
    """A process that queued a job and died before starting it does not block the account:
    the job reads as interrupted, and the next sync is accepted."""
    path = tmp_path / "jobs.sqlite3"
    code = (
        "import sys; from imapcopy_tui.storage.store import JobStore;"
        "from tests.unit.test_store import SRC, DST;"
        "JobStore(sys.argv[1]).create_job(SRC, DST)"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True,
                   cwd=Path(__file__).parents[2])
    store = JobStore(path)
    (job,) = store.jobs()
    assert job.state is JobState.INTERRUPTED
    assert store.create_job(SRC, DST).id == job.id
