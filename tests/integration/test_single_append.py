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

from imapcopy_tui.engine.progress import CopyListener
from imapcopy_tui.engine.session import open_session
from imapcopy_tui.storage.store import JobState
from tests.dovecot import DovecotServer
from tests.faultproxy import Action, Fault, FaultProxy
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
    sent = b"".join(p.read_bytes() for p in rawlog.glob("*.in"))
    # A synchronising literal even with LITERAL+: see bulk.append_one.
    assert re.search(rb'APPEND "INBOX" \(\\Seen\) "31-Dec-0999 23:59:59 \+0000" \{\d+\}', sent)
    assert len(read(dovecot_single, unique_user, "INBOX")) == 1


THROTTLED = b"NO [THROTTLED] Request is throttled. Suggested Backoff Time: 300 milliseconds"
TOO_LARGE = b"NO Message too large for this server"


class Waits(CopyListener):
    def __init__(self) -> None:
        self.waits: list[float] = []

    def waiting(self, delay: float, reason: str) -> None:
        self.waits.append(delay)


def test_busy_and_refused_appends_without_multiappend(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_single: DovecotServer, unique_user: str
) -> None:
    """The 2nd APPEND sent is answered "throttled" and the 5th refused.  Each message is its
    own APPEND, so the others are stored; the refused one is recorded as failed with the
    server's words, the throttled one goes again after the suggested 0.3 s.  One APPEND at
    a time, it goes again in its place; pipelined (LITERAL+), the others were already sent,
    so it lands after them.  Nothing is lost or doubled either way."""
    source_user = unique_user + "-src"
    mails = [Mail(b"Subject: m%d\r\n\r\nbody %d\r\n" % (n, n), ("\\Seen",)) for n in range(1, 7)]
    put(dovecot_src, source_user, "INBOX", mails)
    waits = Waits()
    with FaultProxy(dovecot_single.host, dovecot_single.plain_port) as proxy:
        proxy.add(Fault(rb"^APPEND", Action.REPLY, reply=THROTTLED, skip=1))
        proxy.add(Fault(rb"^APPEND", Action.REPLY, reply=TOO_LARGE, skip=3))
        dst = account(dovecot_single, unique_user, "destination", port=proxy.port)
        outcome = sync(new_store(tmp_path), account(dovecot_src, source_user), dst,
                       listener=waits, send_report=False, connections=1)
        pipelined = dovecot_single.name == "single-lp"
    # One at a time, the 2nd goes again before the 3rd: the 5th APPEND sent is message 4.
    refused, order = (5, [1, 3, 4, 6, 2]) if pipelined else (4, [1, 2, 3, 5, 6])
    assert outcome.state is JobState.FINISHED_WITH_ERRORS, outcome.failure
    (error,) = outcome.result.errors
    assert error.uid == refused and "Message too large for this server" in error.message
    assert waits.waits == [0.3]
    subjects = [m.body.split(b"\r\n")[0] for m in read(dovecot_single, unique_user, "INBOX")]
    assert subjects == [b"Subject: m%d" % n for n in order]
