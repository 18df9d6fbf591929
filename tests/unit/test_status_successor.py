"""A job that did not finish (interrupted or failed) and that a later job of the same two
accounts took over says so, instead of advising to start the sync again: QA found the stale
advice in the job list after the later job had finished."""

from __future__ import annotations

from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.status import describe, state_words
from imapcopy_tui.storage.store import Job, JobState, JobStore, Takeover

SRC = Account(host="imap.a.example", login="alice@a.example", password="pw", port=993)
DST = Account(host="imap.b.example", login="alice@b.example", password="pw", port=993,
              role="destination")

RESUME_ADVICE = (
    "The sync was interrupted before the end: start the same sync again (with the "
    "passwords) to resume it; nothing will be copied twice."
)
REFUSED = "the source account alice@a.example on imap.a.example:993 refused the password."


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3")


def ended(
    store: JobStore,
    state: JobState,
    failure: str | None = None,
    source: Account = SRC,
    destination: Account = DST,
    *,
    dry_run: bool = False,
) -> Job:
    """A new job of these accounts, run and ended in ``state`` (left running for RUNNING)."""
    job = store.create_job(source, destination, dry_run=dry_run)
    store.start(job.id)
    if state is not JobState.RUNNING:
        store.end(job.id, state, failure)
    return store.get(job.id)


def interrupted_dry_run(store: JobStore) -> Job:
    """An interrupted job that the next sync cannot resume in place: a real copy never
    resumes a dry run's job, so the next sync of these accounts is a new job."""
    return ended(store, JobState.INTERRUPTED, "the copy was stopped", dry_run=True)


def test_an_interrupted_job_alone_keeps_the_advice_to_resume(store: JobStore) -> None:
    """No later job: the advice to start the same sync again, and the reason, unchanged."""
    job = ended(store, JobState.INTERRUPTED, "the copy was stopped")
    status = describe(job)
    assert status.headline == RESUME_ADVICE
    assert status.details[-1] == "Reason: the copy was stopped"
    assert job.taken_over_by is None


def test_an_interrupted_job_names_the_finished_job_that_took_it_over(store: JobStore) -> None:
    """The exact sentence once a later job of the same accounts finished."""
    first = interrupted_dry_run(store)
    later = ended(store, JobState.FINISHED)
    assert later.id != first.id
    job = store.get(first.id)
    status = describe(job)
    assert status.headline == (
        f"The sync was interrupted before the end; job {later.id} took it over (finished)."
    )
    assert status.details[-1] == "Reason: the copy was stopped"  # what happened stays
    assert job.taken_over_by == Takeover(later.id, JobState.FINISHED)


def test_the_later_jobs_state_is_told_in_plain_words_as_it_changes(store: JobStore) -> None:
    first = interrupted_dry_run(store)
    later = store.create_job(SRC, DST)
    assert describe(store.get(first.id)).headline == (
        f"The sync was interrupted before the end; job {later.id} took it over "
        "(not started yet)."
    )
    store.start(later.id)
    assert describe(store.get(first.id)).headline == (
        f"The sync was interrupted before the end; job {later.id} took it over (in progress)."
    )
    store.end(later.id, JobState.FINISHED_WITH_ERRORS)
    assert describe(store.get(first.id)).headline == (
        f"The sync was interrupted before the end; job {later.id} took it over "
        "(finished with errors)."
    )


def test_a_failed_job_keeps_its_reason_and_names_the_job_that_took_it_over(
    store: JobStore,
) -> None:
    """A failed job is never resumed: the next sync is a new job, which takes it over."""
    first = ended(store, JobState.FAILED, REFUSED)
    assert describe(first).headline == f"The sync failed: {REFUSED}"
    later = ended(store, JobState.FINISHED)
    assert describe(store.get(first.id)).headline == (
        "The sync failed: the source account alice@a.example on imap.a.example:993 refused "
        f"the password; job {later.id} took it over (finished)."
    )


def test_the_newest_later_job_is_named_where_the_copy_stands_now(store: JobStore) -> None:
    first = ended(store, JobState.FAILED, REFUSED)
    second = ended(store, JobState.FAILED, "the connection was lost")
    third = ended(store, JobState.FINISHED)
    for job_id in (first.id, second.id):
        assert store.get(job_id).taken_over_by == Takeover(third.id, JobState.FINISHED)
    assert store.get(third.id).taken_over_by is None
    assert [j.taken_over_by for j in store.jobs()] == [
        None,
        Takeover(third.id, JobState.FINISHED),
        Takeover(third.id, JobState.FINISHED),
    ]


def test_only_a_later_job_of_the_same_two_accounts_takes_over(store: JobStore) -> None:
    """The accounts as Account.key tells them apart: another destination, another port or
    a dry run (which copies nothing) leaves the advice; the case of a name does not."""
    first = ended(store, JobState.FAILED, REFUSED)
    other = Account(host="imap.c.example", login="alice@c.example", password="pw",
                    role="destination")
    ended(store, JobState.FINISHED, destination=other)
    ended(store, JobState.FINISHED, source=Account(
        host="imap.a.example", login="alice@a.example", password="pw", port=143))
    ended(store, JobState.FINISHED, dry_run=True)
    assert store.get(first.id).taken_over_by is None
    assert describe(store.get(first.id)).headline == f"The sync failed: {REFUSED}"
    shouting = Account(host="IMAP.A.EXAMPLE", login="Alice@A.example", password="pw")
    later = ended(store, JobState.FINISHED, source=shouting)
    assert store.get(first.id).taken_over_by == Takeover(later.id, JobState.FINISHED)


def test_a_finished_job_is_never_taken_over(store: JobStore) -> None:
    """A later sync of finished accounts copies new mail; the first one still finished."""
    first = ended(store, JobState.FINISHED)
    ended(store, JobState.FINISHED)
    assert store.get(first.id).taken_over_by is None
    assert describe(store.get(first.id)).headline == "The sync of your accounts is finished."


def test_an_interrupted_job_is_still_resumed_in_place(store: JobStore) -> None:
    """The shared account query did not change resuming: same number, nothing taken over."""
    job = ended(store, JobState.INTERRUPTED, "the copy was stopped")
    assert store.create_job(SRC, DST).id == job.id
    assert len(store.jobs()) == 1


def test_every_state_has_plain_words() -> None:
    assert [state_words(s) for s in JobState] == [
        "not started yet", "in progress", "finished", "finished with errors", "failed",
        "interrupted",
    ]
