"""The start-up notice of running tasks is corrected when one of them ends while shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.storage.store import JobState, JobStore
from imapcopy_tui.tui.app import ImapCopyApp
from tests.tui.test_flow import SIZE, wait_for

DST = Account(host="imap.b.example", login="alice@b.example", password="pw",
              role="destination")
ENDED = "The sync task of {} has ended: press ctrl+o to see how it ended."


def running(store: JobStore, login: str) -> int:
    """A task running for ``login``; its runner is this (live) test process."""
    job = store.create_job(Account(host="imap.a.example", login=login, password="pw"), DST)
    store.start(job.id)
    return job.id


def recorded_notices(app: ImapCopyApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every notice the app gives, in order."""
    notices: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: object) -> None:
        notices.append(message)
        notify(message, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "notify", record)
    return notices


async def test_a_task_ending_under_the_notice_is_told_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tasks running at start-up: the one that ends while the notice is on screen is
    told to have ended, once; the one still running is not."""
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    ending = running(store, "ending@a.example")
    running(store, "going-on@a.example")
    app = ImapCopyApp(db_path=db)
    notices = recorded_notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert notices == ["2 sync task(s) running, e.g. going-on@a.example: "
                           "press ctrl+o to follow."]
        store.end(ending, JobState.FINISHED)
        await wait_for(pilot, lambda: len(notices) > 1, seconds=5)
        await pilot.pause(2.5)  # a further round of the 2-second check: no repeat
    assert notices[1:] == [ENDED.format("ending@a.example")]


async def test_no_correction_once_the_notice_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task that ends after the notice has left the screen needs no correction."""
    monkeypatch.setattr("imapcopy_tui.tui.app.STARTUP_NOTICE_SECONDS", 0.5)
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    job_id = running(store, "late@a.example")
    app = ImapCopyApp(db_path=db)
    notices = recorded_notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.0)
        store.end(job_id, JobState.FINISHED)
        await pilot.pause(2.5)
    assert len(notices) == 1, notices
