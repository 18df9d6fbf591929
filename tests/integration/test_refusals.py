"""What the destination refuses is recorded with the server's words; the rest is copied."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.session import ImapSession, open_session
from imapcopy_tui.runner import run_job
from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus
from tests.dovecot import DovecotServer
from tests.helpers import (
    FAST,
    account,
    destination_folder,
    new_store,
    reports,
    sync,
)

pytestmark = pytest.mark.dovecot


def test_over_quota_message_is_recorded_and_the_rest_copied(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    quota_user: str,
) -> None:
    """Dovecot's quota refuses the 3 MB message: the job finishes with 1 error quoting the
    server, every other message is on the destination, and the report lists the error."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_src, src_user),
                   account(dovecot_dst, quota_user, "destination"))
    assert outcome.state is JobState.FINISHED_WITH_ERRORS
    (error,) = outcome.result.errors
    assert "OVERQUOTA" in error.message or "Quota exceeded" in error.message
    large_path, _ = corpus.landmarks["large"]
    (large,) = corpus.landmark("large")
    assert error.folder == "/".join(large_path)

    found = destination_folder(dovecot_dst, quota_user, corpus)
    for path, records in corpus.messages.items():
        expected = [r for r in records if r.raw != large.raw]
        assert found[path] == expected, path

    job = store.get(outcome.job_id)
    assert job.state is JobState.FINISHED_WITH_ERRORS
    assert job.messages_failed == 1
    assert job.messages_copied == corpus.message_count - 1
    assert [e.message for e in job.errors] == [error.message]

    (report,) = reports(dovecot_dst, quota_user)
    mail = message_from_bytes(report.raw, policy=default_policy)
    assert mail["Subject"] == (
        f"Copy of {src_user} finished with 1 error: {corpus.message_count - 1} messages copied"
    )
    body = mail.get_content()
    assert error.message in body
    assert "Old Mail Box" in body



def test_a_full_destination_stops_the_job_and_the_same_sync_finishes_it(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    quota_user: str,
    make_user: Any,
) -> None:
    """40 messages of 20 KB into 300 KiB: those that fit are copied, then the job stops
    after 10 over-quota refusals in a row (9 recorded, not one line per message left),
    failed, saying what to do; with room made, the same sync copies the rest: all 40, each
    once, in order."""
    src_user = make_user()
    bodies = [
        b"Subject: filler %d\r\nMessage-ID: <%d@quota.test>\r\n\r\n" % (n, n)
        + b"x" * 20_000 + b"\r\n"
        for n in range(40)
    ]
    with dovecot_src.client(src_user) as client:
        for body in bodies:
            client.append("INBOX", body)
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, quota_user, "destination")
    first = sync(store, src, dst, send_report=False)
    assert first.state is JobState.FAILED
    assert first.failure is not None and first.failure.endswith(
        "10 messages in a row were refused as over quota: free some space on the "
        "destination account or raise its quota, then run the same sync again (what was "
        "copied stays)"
    ), first.failure
    assert "[OVERQUOTA]" in first.failure
    job = store.get(first.job_id)
    assert job.messages_failed == 9 and 0 < job.messages_copied < 40
    with dovecot_dst.client(quota_user) as client:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search("ALL")) == job.messages_copied

    dovecot_dst.add_quota_user(quota_user, "*:storage=10M")
    second = sync(store, src, dst, send_report=False)
    assert second.state is JobState.FINISHED, second.failure
    with dovecot_dst.client(quota_user) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        found = [client.fetch([u], ["BODY.PEEK[]"])[u][b"BODY[]"] for u in uids]
    assert found == bodies

def test_report_describes_the_copy(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The report mail: from imapcopy, calm subject naming the source and the outcome, a
    row per folder (created/existing, copied, present, failed), totals and duration."""
    src_user, corpus = corpus_source
    sync(new_store(tmp_path), account(dovecot_src, src_user),
         account(dovecot_dst, unique_user, "destination"))
    (report,) = reports(dovecot_dst, unique_user)
    mail = message_from_bytes(report.raw, policy=default_policy)
    assert mail["From"].addresses[0].display_name == "imapcopy"
    assert mail["Subject"] == f"Copy of {src_user} finished: {corpus.message_count} messages copied"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert report.flags == ()  # unread: the user should see it
    body = mail.get_content()
    rows = {line.split()[0]: line.split() for line in body.splitlines() if line.startswith("  ")}
    assert rows["INBOX"][1:5] == ["existing", "10", "0", "0"]
    assert rows["Données"][1:5] == ["created", "2", "0", "0"]
    assert rows["Total"][1:4] == [str(corpus.message_count), "0", "0"]
    assert "Duration:" in body
    assert "error" not in mail["Subject"]


def test_report_can_be_turned_off(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """send_report=False (--no-report) leaves no report."""
    src_user, _ = corpus_source
    sync(new_store(tmp_path), account(dovecot_src, src_user),
         account(dovecot_dst, unique_user, "destination"), send_report=False)
    assert reports(dovecot_dst, unique_user) == []


def test_folder_that_cannot_be_created_is_recorded_and_the_next_starts(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """CREATE refused for one folder: that folder is an error, all others are copied."""
    src_user, corpus = corpus_source

    class RefusesOneFolder(ImapSession):
        def create_folders(self, names: Any) -> dict[str, tuple[str | None, str | None]]:
            outcome = super().create_folders([n for n in names if n != "Отчёты"])
            if "Отчёты" in names:
                outcome["Отчёты"] = ("[CANNOT] test refusal", None)
            return outcome

    def connect(acct: Account, **kwargs: Any) -> ImapSession:
        session = open_session(acct, **kwargs)
        if acct.role == "destination":
            return RefusesOneFolder(acct, session._client)
        return session

    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    outcome = run_job(store, job.id, src, dst, CopyOptions(**FAST), connect=connect)
    assert outcome.state is JobState.FINISHED_WITH_ERRORS
    (error,) = outcome.result.errors
    assert error.folder == "Отчёты" and "test refusal" in error.message
    client = dovecot_dst.client(unique_user)
    names = {n for *_, n in client.list_folders()}
    client.logout()
    assert "Отчёты" not in names
    assert {"Données", "日本語", "R&D", "Old Mail Box"} <= names
    found = destination_folder(dovecot_dst, unique_user, corpus.__class__(
        corpus.separator, corpus.prefix, corpus.folders,
        {p: r for p, r in corpus.messages.items() if p != ("Отчёты",)}, corpus.landmarks))
    assert sum(len(v) for v in found.values()) == corpus.message_count - 1
    folder = next(f for f in store.get(job.id).folders if f.name == "Отчёты")
    assert folder.error and "test refusal" in folder.error


def test_after_the_quota_is_raised_a_second_run_copies_the_rest(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    quota_user: str,
) -> None:
    """Over quota, the first run keeps what fitted; once the admin raises the quota, the
    same sync again copies only what was missing: the destination ends identical."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, quota_user, "destination")
    first = sync(store, src, dst, send_report=False)
    assert first.state is JobState.FINISHED_WITH_ERRORS
    assert first.result.total("failed") == 1

    dovecot_dst.add_quota_user(quota_user, "*:storage=100M")
    second = sync(store, src, dst, send_report=False)
    assert second.state is JobState.FINISHED, second.failure
    assert (second.result.total("copied"), second.result.total("failed")) == (1, 0)
    assert second.result.total("present") == corpus.message_count - 1
    # APPEND can only add at the end: the late message is last in its folder, not first.
    found = destination_folder(dovecot_dst, quota_user, corpus)
    for path, records in corpus.messages.items():
        assert sorted(found[path], key=repr) == sorted(records, key=repr), path


def test_messages_over_the_append_limit_are_listed_and_not_sent(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_appendlimit: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The destination announces APPENDLIMIT=1000000: the 3.1 MB message is set aside
    before sending (our words, with its date, sender and subject, not the server's refusal),
    the report lists it, and everything else is copied."""
    src_user, corpus = corpus_source
    (large,) = corpus.landmark("large")
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_src, src_user),
                   account(dovecot_appendlimit, unique_user, "destination"))
    assert outcome.state is JobState.FINISHED_WITH_ERRORS
    (error,) = outcome.result.errors
    assert error.message == (
        "too large for the destination (3.1 MiB; it takes at most 976.6 KiB), not sent: "
        f"dated {large.header('Date')}, from {large.header('From')}, "
        f"subject {large.header('Subject')}"
    )
    found = destination_folder(dovecot_appendlimit, unique_user, corpus)
    for path, records in corpus.messages.items():
        assert found[path] == [r for r in records if r.raw != large.raw], path
    (report,) = reports(dovecot_appendlimit, unique_user)
    assert "too large for the destination" in report.raw.decode()
