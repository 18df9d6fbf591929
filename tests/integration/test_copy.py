"""Copies between real Dovecot servers: what lands on the destination, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus, imap_name, read_folder
from tests.dovecot import DovecotServer
from tests.helpers import account, assert_identical, destination_folder, new_store, reports, sync

pytestmark = pytest.mark.dovecot


def test_full_copy_is_identical(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """Every folder (empty, nested, non-ASCII) and message arrives with bytes, flags,
    keywords, internal date and order intact; the job says finished with exact counts."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    outcome = sync(
        store, account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    )
    assert outcome.state is JobState.FINISHED, outcome.failure or outcome.result.issues
    assert_identical(corpus, dovecot_dst, unique_user)
    job = store.get(outcome.job_id)
    assert job.messages_copied == corpus.message_count
    assert job.messages_total == corpus.message_count
    assert job.messages_present == job.messages_failed == 0
    assert job.folders_done == job.folders_total == len(corpus.messages)
    assert job.bytes_copied == sum(r.size for rs in corpus.messages.values() for r in rs)


def test_source_is_left_untouched(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """After a copy the source still holds the same messages with the same flags
    (no \\Seen added by reading) and the same UIDVALIDITY."""
    src_user, corpus = corpus_source
    client = dovecot_src.client(src_user)
    before = {p: read_folder(client, corpus.name(p)) for p in corpus.messages}
    validity = {p: client.folder_status(corpus.name(p), ["UIDVALIDITY"]) for p in corpus.messages}
    client.logout()
    sync(new_store(tmp_path), account(dovecot_src, src_user),
         account(dovecot_dst, unique_user, "destination"))
    client = dovecot_src.client(src_user)
    after = {p: read_folder(client, corpus.name(p)) for p in corpus.messages}
    status = {p: client.folder_status(corpus.name(p), ["UIDVALIDITY"]) for p in corpus.messages}
    assert status == validity
    client.logout()
    assert after == before
    uids_after = [[r.uid for r in rs] for rs in after.values()]
    assert uids_after == [[r.uid for r in rs] for rs in before.values()]


def test_rerun_adds_nothing_but_its_report(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """A second run finds everything present and copies nothing; only its report is new."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    sync(store, src, dst)
    second = sync(store, src, dst)
    assert second.state is JobState.FINISHED
    assert second.result.total("copied") == 0
    assert second.result.total("present") == corpus.message_count
    assert_identical(corpus, dovecot_dst, unique_user)
    assert len(reports(dovecot_dst, unique_user)) == 2


def test_mail_already_there_from_another_tool_is_not_doubled(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """Messages put on the destination by something else (no ledger) are recognised,
    while same-Message-ID pairs and exact duplicates keep their multiplicity."""
    src_user, corpus = corpus_source
    client = dovecot_dst.client(unique_user)
    seeded = 0
    for path, records in corpus.messages.items():
        name = imap_name(path, dovecot_dst.separator, dovecot_dst.prefix)
        if path != ("INBOX",):
            client.create_folder(name)
        # Half of each folder, including one of each exact-duplicate pair.
        for record in records[: (len(records) + 1) // 2]:
            client.append(name, record.raw, record.flags, record.internal_date)
            seeded += 1
    client.logout()
    outcome = sync(new_store(tmp_path), account(dovecot_src, src_user),
                   account(dovecot_dst, unique_user, "destination"), send_report=False)
    assert outcome.state is JobState.FINISHED
    assert outcome.result.total("present") == seeded
    assert outcome.result.total("copied") == corpus.message_count - seeded
    found = destination_folder(dovecot_dst, unique_user, corpus)
    for path, records in corpus.messages.items():
        assert sorted(r.raw for r in found[path]) == sorted(r.raw for r in records), path


def test_special_cases_are_all_copied(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """No Message-ID, a shared Message-ID, exact duplicates and a multi-MB message each
    arrive, as many times as on the source."""
    src_user, corpus = corpus_source
    sync(new_store(tmp_path), account(dovecot_src, src_user),
         account(dovecot_dst, unique_user, "destination"))
    found = destination_folder(dovecot_dst, unique_user, corpus)
    for key in ("large", "no_message_id", "same_message_id", "exact_duplicates"):
        path, _ = corpus.landmarks[key]
        for record in corpus.landmark(key):
            expected = sum(1 for r in corpus.messages[path] if r.raw == record.raw)
            assert sum(1 for r in found[path] if r.raw == record.raw) == expected, key
    assert len(corpus.landmark("exact_duplicates")) == 2
    assert max(r.size for r in corpus.landmark("large")) > 2_000_000


@pytest.mark.parametrize("direction", ["dot-to-slash", "slash-to-dot"])
def test_separator_and_prefix_are_translated(
    tmp_path: Path,
    direction: str,
    dovecot_src: DovecotServer,
    dovecot_dot: DovecotServer,
    corpus_source: tuple[str, Corpus],
    corpus_dot_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """INBOX.Archive.2019 ('.', 'INBOX.') arrives as Archive/2019 ('/', no prefix) and the
    other way round, with all mail."""
    if direction == "dot-to-slash":
        (src_user, corpus), src_server, dst_server = corpus_dot_source, dovecot_dot, dovecot_src
    else:
        (src_user, corpus), src_server, dst_server = corpus_source, dovecot_src, dovecot_dot
    outcome = sync(new_store(tmp_path), account(src_server, src_user),
                   account(dst_server, unique_user, "destination"))
    assert outcome.state is JobState.FINISHED, outcome.result.issues
    assert_identical(corpus, dst_server, unique_user)
    client = dst_server.client(unique_user)
    names = {n for *_, n in client.list_folders()}
    client.logout()
    expected = "Archive/2019/Q1" if dst_server is dovecot_src else "INBOX.Archive.2019.Q1"
    assert expected in names


def test_dry_run_changes_nothing(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """--dry-run reports the plan (folders to create, messages, bytes) and writes nothing."""
    from imapcopy_tui.engine.copier import Copier, CopyOptions
    from imapcopy_tui.engine.ledger import MemoryLedger

    src_user, corpus = corpus_source
    source, destination = (
        account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    )
    result = Copier(source, destination, MemoryLedger(), options=CopyOptions(dry_run=True)).run()
    assert result.total("copied") == corpus.message_count
    assert sum(f.created for f in result.folders) == len(corpus.messages) - 1
    client = dovecot_dst.client(unique_user)
    assert {n for *_, n in client.list_folders()} == {"INBOX"}
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client.logout()


def test_duplicates_copied_fast_still_count_on_the_next_run(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    make_user: object,
    unique_user: str,
) -> None:
    """Into an empty folder identities are computed from the bodies, not fetched; they must
    match the destination's own: a third exact duplicate added later is copied, not taken
    for one of the first two."""
    from tests.corpus import read_folder

    source_user = unique_user + "-src"
    raw = (b"From: a@example.org\r\nSubject: twice\r\nMessage-ID: <same@x>\r\n"
           b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nthe same body\r\n")
    client = dovecot_src.client(source_user)
    client.append("INBOX", raw)
    client.append("INBOX", raw)
    client.logout()
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, source_user), account(dovecot_dst, unique_user, "destination")
    assert sync(store, src, dst, send_report=False).result.total("copied") == 2
    client = dovecot_src.client(source_user)
    client.append("INBOX", raw)
    client.logout()
    again = sync(store, src, dst, send_report=False)
    assert (again.result.total("copied"), again.result.total("present")) == (1, 2)
    client = dovecot_dst.client(unique_user)
    assert [r.raw for r in read_folder(client, "INBOX")] == [raw, raw, raw]
    client.logout()
