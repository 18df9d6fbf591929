"""What the copier really sends, read from Dovecot's rawlog of the destination session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imapcopy_tui.engine.options import CopyOptions
from imapcopy_tui.engine.transfer import FIRST_BATCH_SHARE
from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus
from tests.dovecot import DovecotServer
from tests.helpers import account, assert_identical, new_store, sync

pytestmark = pytest.mark.dovecot


def expected_batches(sizes: list[int]) -> int:
    """How many batches the copier cuts messages of these sizes into (default options)."""
    options = CopyOptions()
    limit_count, limit_bytes = options.fetch_batch_count, options.fetch_batch_bytes
    if len(sizes) > limit_count or sum(sizes) > limit_bytes:
        limit_count //= FIRST_BATCH_SHARE
        limit_bytes //= FIRST_BATCH_SHARE
    batches, count, size = 0, 0, 0
    for message_size in sizes:
        if count and (count >= limit_count or size + message_size > limit_bytes):
            batches, count, size = batches + 1, 0, 0
            limit_count = min(options.fetch_batch_count, limit_count * 2)
            limit_bytes = min(options.fetch_batch_bytes, limit_bytes * 2)
        count, size = count + 1, size + message_size
    return batches + (1 if count else 0)


def test_destination_gets_multiappend_with_literal_plus(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The server offers MULTIAPPEND and LITERAL+: a folder's batch goes as ONE APPEND
    command whose messages are non-synchronising literals ({n+}), so the copy does not
    wait a round trip per message.  Batches start small and double (appending starts
    early), up to the full batch size."""
    src_user, corpus = corpus_source
    rawlog = dovecot_dst.enable_rawlog(unique_user)
    outcome = sync(new_store(tmp_path), account(dovecot_src, src_user),
                   account(dovecot_dst, unique_user, "destination"), send_report=False)
    assert outcome.state is JobState.FINISHED
    sent = b"".join(p.read_bytes() for p in sorted(rawlog.glob("*.in")))
    # Rawlog lines start with a timestamp, then the tag.
    appends = re.findall(rb"^[0-9.]+ \S+ APPEND ", sent, flags=re.MULTILINE)
    literals = re.findall(rb"\{\d+\+\}\r\n", sent)
    synchronising = re.findall(rb"\{\d+\}\r\n", sent)
    batches = sum(
        expected_batches([r.size for r in records]) for records in corpus.messages.values()
    )
    assert len(appends) == batches < corpus.message_count
    assert len(literals) == corpus.message_count
    assert synchronising == []
    assert_identical(corpus, dovecot_dst, unique_user)


def test_unchanged_rerun_only_asks_status_and_new_mail_is_still_copied(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """A re-run of an unchanged mailbox opens no source folder and fetches nothing (STATUS
    only); after new mail arrives in one folder, only that folder is read again and the
    new message copied."""
    source_user = unique_user + "-src"
    client = dovecot_src.client(source_user)
    client.create_folder("Work")
    for folder in ("INBOX", "Work"):
        for n in range(3):
            client.append(folder, f"Subject: {folder} {n}\r\n\r\nbody {n}\r\n".encode())
    client.logout()
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, source_user), account(dovecot_dst, unique_user, "destination")
    assert sync(store, src, dst, send_report=False).result.total("copied") == 6

    rawlog = dovecot_src.enable_rawlog(source_user)
    again = sync(store, src, dst, send_report=False)
    assert (again.result.total("copied"), again.result.total("present")) == (0, 6)
    sent = b"".join(p.read_bytes() for p in rawlog.glob("*.in"))
    assert b" STATUS " in sent
    assert not re.search(rb" (EXAMINE|SELECT|FETCH|UID FETCH|UID SEARCH) ", sent), sent
    for log in rawlog.iterdir():
        log.unlink()

    client = dovecot_src.client(source_user)
    client.append("Work", b"Subject: Work new\r\n\r\nnew body\r\n")
    client.logout()
    third = sync(store, src, dst, send_report=False)
    assert (third.result.total("copied"), third.result.total("present")) == (1, 6)
    sent = b"".join(p.read_bytes() for p in rawlog.glob("*.in"))
    assert re.findall(rb" EXAMINE \"?(\w+)", sent) == [b"Work"]
    client = dovecot_dst.client(unique_user)
    assert client.select_folder("Work", readonly=True)[b"EXISTS"] == 4
    client.logout()
