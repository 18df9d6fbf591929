"""What the copier really sends, read from Dovecot's rawlog of the destination session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus
from tests.dovecot import DovecotServer
from tests.helpers import account, assert_identical, new_store, sync

pytestmark = pytest.mark.dovecot


def test_destination_gets_multiappend_with_literal_plus(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The server offers MULTIAPPEND and LITERAL+: a folder's batch goes as ONE APPEND
    command whose messages are non-synchronising literals ({n+}), so the copy does not
    wait a round trip per message."""
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
    non_empty = sum(1 for records in corpus.messages.values() if records)
    assert len(appends) == non_empty  # one command per non-empty folder
    assert len(literals) == corpus.message_count
    assert synchronising == []
    assert_identical(corpus, dovecot_dst, unique_user)
