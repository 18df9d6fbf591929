"""Destinations without MULTIAPPEND (Exchange and Microsoft 365 offer LITERAL+ but not
MULTIAPPEND; some servers offer neither): each message goes in an APPEND of its own, and
must still arrive byte for byte, with its flags and internal date.

Dovecot implements both extensions whatever it announces; ``imap_capability`` makes it
announce less, and the copier goes by what is announced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imapcopy_tui.engine.session import open_session
from imapcopy_tui.storage.store import JobState
from tests.dovecot import DovecotServer
from tests.helpers import account, new_store, sync
from tests.rawmail import Mail, assert_same_messages, put, read

pytestmark = pytest.mark.dovecot

# Dovecot 2.3.19's own list after login, less MULTIAPPEND, CATENATE and LITERAL+.
_ANNOUNCED = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT URL-PARTIAL UNSELECT CHILDREN NAMESPACE UIDPLUS "
    "LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN "
    "CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE "
    "SAVEDATE NOTIFY SPECIAL-USE"
)
EXCHANGE_LIKE = _ANNOUNCED + " LITERAL+"

# Lone CR and lone LF: Dovecot keeps a lone CR and hands it out as is (a lone LF it hands
# out as CRLF); imaplib's own APPEND would turn both into CRLF.
ODD_LINE_ENDS = [
    Mail(b"Subject: lone CR\r\n\r\nbefore\rafter\r\n", ("\\Seen",), "01-Feb-2021 10:00:05 +0100"),
    Mail(b"Subject: lone LF\nX-A: b\n\nline one\nline two\n", ("$Label1",),
         "02-Feb-2021 11:00:00 -0500"),
    Mail(b"Subject: plain\r\n\r\nbody\r\n", ("\\Flagged", "\\Answered"),
         "03-Feb-2021 12:00:00 +0000"),
]


@pytest.fixture(scope="module", params=["LITERAL+", "no LITERAL+"])
def dovecot_single(request: pytest.FixtureRequest, dovecot_root: Path) -> Iterator[DovecotServer]:
    """A destination announcing no MULTIAPPEND: with LITERAL+ (as Exchange) or without."""
    announced = EXCHANGE_LIKE if request.param == "LITERAL+" else _ANNOUNCED
    name = "single-lp" if request.param == "LITERAL+" else "single"
    with DovecotServer(dovecot_root, name, tls=False,
                       extra_config=f"imap_capability = {announced}\n") as server:
        yield server


def test_one_append_per_message_keeps_every_byte(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_single: DovecotServer, unique_user: str
) -> None:
    """Lone CR and LF line ends, flags, keywords and internal dates arrive as the source
    hands them out, one APPEND per message; a re-run without the ledger (the identity
    rule alone, size included) finds every message already there."""
    source_user = unique_user + "-src"
    put(dovecot_src, source_user, "INBOX", ODD_LINE_ENDS)
    rawlog = dovecot_single.enable_rawlog(unique_user)
    src = account(dovecot_src, source_user)
    dst = account(dovecot_single, unique_user, "destination")
    first = sync(new_store(tmp_path / "a"), src, dst, send_report=False)
    assert first.state is JobState.FINISHED, first.result.issues
    assert first.result.total("copied") == len(ODD_LINE_ENDS)
    source = read(dovecot_src, source_user, "INBOX")
    assert b"before\rafter" in source[0].body  # the case this test is about
    assert_same_messages(source, read(dovecot_single, unique_user, "INBOX"), "INBOX")
    sent = b"".join(p.read_bytes() for p in rawlog.glob("*.in"))
    assert sent.count(b" APPEND ") == len(ODD_LINE_ENDS)  # no MULTIAPPEND was announced
    again = sync(new_store(tmp_path / "b"), src, dst, send_report=False)
    assert again.state is JobState.FINISHED, again.result.issues
    assert (again.result.total("copied"), again.result.total("present")) == (0, 3)


def test_single_append_writes_a_year_below_1000_with_four_digits(
    dovecot_single: DovecotServer, unique_user: str
) -> None:
    """IMAPClient's ``strftime`` writes year 999 as ``999``, which servers refuse."""
    rawlog = dovecot_single.enable_rawlog(unique_user)
    with open_session(account(dovecot_single, unique_user, "destination")) as session:
        assert not session.can_append_many
        session.append("INBOX", b"Subject: year 999\r\n\r\nx\r\n", ("\\Seen",),
                       datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC))
        literal_plus = session.has("LITERAL+")
    sent = b"".join(p.read_bytes() for p in rawlog.glob("*.in"))
    literal = rb"\{\d+\+\}" if literal_plus else rb"\{\d+\}"
    assert re.search(rb'APPEND "INBOX" \(\\Seen\) "31-Dec-0999 23:59:59 \+0000" ' + literal, sent)
    assert len(read(dovecot_single, unique_user, "INBOX")) == 1
