"""The app's Stop signals only the process running a copy on this machine, while it is
still that process: never itself, a job's creator, a job over, or a reused pid."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.launcher import stop_runner
from imapcopy_tui.storage.liveness import ProcessIdentity, process_start_ticks
from imapcopy_tui.storage.store import Job, JobState, JobStore

SRC = Account(host="imap.a.example", login="alice@a.example", password="pw")
DST = Account(host="imap.b.example", login="alice@b.example", password="pw",
              role="destination")


@pytest.fixture
def runner() -> Iterator[subprocess.Popen[bytes]]:
    """A process standing for a runner: it waits, and SIGTERM ends it."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def running_job(tmp_path: Path, child: subprocess.Popen[bytes]) -> Job:
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create_job(SRC, DST)
    store.start(job.id, ProcessIdentity(child.pid, process_start_ticks(child.pid)))
    return store.get(job.id)


def test_the_runner_of_a_running_job_is_stopped(
    tmp_path: Path, runner: subprocess.Popen[bytes]
) -> None:
    job = running_job(tmp_path, runner)
    assert stop_runner(job)
    assert runner.wait(10) == -15  # SIGTERM


@pytest.mark.parametrize(
    "change",
    [
        {"state": JobState.QUEUED},  # the pid is the job's creator's
        {"state": JobState.FINISHED},
        {"runner_start_ticks": None},  # cannot be told from a later process
        {"runner_start_ticks": 1},  # another process now has that pid
        {"runner_host": "elsewhere.example"},
        {"runner_pid": os.getpid()},  # the app itself
    ],
    ids=["queued", "over", "no-ticks", "pid-reused", "other-machine", "itself"],
)
def test_nothing_else_is_signalled(
    tmp_path: Path, runner: subprocess.Popen[bytes], change: dict[str, object]
) -> None:
    job = replace(running_job(tmp_path, runner), **change)  # type: ignore[arg-type]
    assert not stop_runner(job)
    assert runner.poll() is None
