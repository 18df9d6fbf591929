"""imapcopy jobs and imapcopy status: a job that a later job of the same accounts took over
says which, in the table and in the JSON "message", instead of advising to start again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from imapcopy_tui.cli import ExitCode, main
from imapcopy_tui.storage.store import JobState, JobStore
from tests.unit.test_status_successor import (
    REFUSED,
    RESUME_ADVICE,
    ended,
    interrupted_dry_run,
)


@pytest.fixture
def store() -> JobStore:
    """The database the command line uses (IMAPCOPY_DB, set per test by conftest)."""
    return JobStore(Path(os.environ["IMAPCOPY_DB"]))


def jobs_output(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["jobs", *argv]) == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def row(store: JobStore, job_id: int, state: str) -> str:
    started = store.get(job_id).started_at
    return (
        f"{job_id:>4}  {state:<20}  {'alice@a.example':<30}  {'alice@b.example':<30}  "
        f"{0:>7}  {'0 B':>9}  {started}"
    )


HEADER = (
    f"{'id':>4}  {'state':<20}  {'source':<30}  {'destination':<30}  "
    f"{'copied':>7}  {'size':>9}  started"
)


def test_jobs_lists_an_interrupted_job_alone_without_a_note(
    capsys: pytest.CaptureFixture[str], store: JobStore
) -> None:
    job = ended(store, JobState.INTERRUPTED, "the copy was stopped")
    assert jobs_output(capsys) == f"{HEADER}\n{row(store, job.id, 'interrupted')}\n"
    (data,) = json.loads(jobs_output(capsys, "--json"))
    assert data["message"] == RESUME_ADVICE
    assert data["taken_over_by"] is None


def test_jobs_tells_which_job_took_over_an_interrupted_one(
    capsys: pytest.CaptureFixture[str], store: JobStore
) -> None:
    first = interrupted_dry_run(store)
    later = ended(store, JobState.FINISHED)
    assert jobs_output(capsys) == (
        f"{HEADER}\n"
        f"{row(store, later.id, 'finished')}\n"
        f"{row(store, first.id, 'interrupted')}\n"
        f"Job {first.id}: The sync was interrupted before the end; job {later.id} took it "
        "over (finished).\n"
    )
    newest, oldest = json.loads(jobs_output(capsys, "--json"))
    assert oldest["message"] == (
        f"The sync was interrupted before the end; job {later.id} took it over (finished)."
    )
    assert oldest["taken_over_by"] == {"id": later.id, "state": "finished"}
    assert newest["message"] == "The sync of your accounts is finished."
    assert newest["taken_over_by"] is None


def test_jobs_tells_which_job_took_over_a_failed_one(
    capsys: pytest.CaptureFixture[str], store: JobStore
) -> None:
    first = ended(store, JobState.FAILED, REFUSED)
    later = ended(store, JobState.RUNNING)
    assert jobs_output(capsys).splitlines()[-1] == (
        f"Job {first.id}: The sync failed: the source account alice@a.example on "
        f"imap.a.example:993 refused the password; job {later.id} took it over (in progress)."
    )


def test_status_answers_with_the_job_that_took_over(
    capsys: pytest.CaptureFixture[str], store: JobStore
) -> None:
    """The status lookup shows the newest job of the address: the one that took over."""
    interrupted_dry_run(store)
    later = ended(store, JobState.FINISHED)
    assert main(["status", "alice@a.example", "--json"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert (data["id"], data["message"]) == (later.id, "The sync of your accounts is finished.")
