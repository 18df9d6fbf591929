"""The fast FETCH reader against the shapes servers really send."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.session import ImapSession
from imapcopy_tui.engine.wire import parse_fetch
from imapcopy_tui.errors import ConnectError, ConnectionLostError, ImapCopyError, ServerError

BODY = b"Subject: a\r\n\r\nbody ) with (parens\r\n"


def test_metadata_lines() -> None:
    """UID, size, flags (without \\Recent) and the internal date with its offset."""
    found = parse_fetch([
        b'1 (UID 7 RFC822.SIZE 20 FLAGS (\\Seen \\Recent $Forwarded) '
        b'INTERNALDATE " 3-Jan-2023 07:30:53 +0200")',
        b"2 (UID 9 RFC822.SIZE 24 FLAGS () INTERNALDATE \"22-Nov-2026 00:33:50 +0000\")",
    ])
    assert found[7].size == 20 and found[7].flags == ("\\Seen", "$Forwarded")
    assert found[7].internal_date == datetime(2023, 1, 3, 7, 30, 53,
                                              tzinfo=timezone(timedelta(hours=2)))
    assert found[9].flags == ()


def test_literal_bodies_and_items_after_them() -> None:
    """BODY[] literals, in any item order, with FLAGS after the literal (Gmail does)."""
    found = parse_fetch([
        (b"1 (UID 1 BODY[] {%d}" % len(BODY), BODY), b")",
        (b"2 (BODY[] {%d}" % len(BODY), BODY), b" UID 2 FLAGS (\\Seen))",
        (b"3 (UID 3 RFC822.SIZE 5 BODY[HEADER] {14}", b"Subject: a\r\n\r\n"), b")",
    ])
    assert found[1].body == BODY and found[1].flags is None
    assert found[2].body == BODY and found[2].flags == ("\\Seen",)
    assert found[3].header == b"Subject: a\r\n\r\n" and found[3].size == 5


def test_nil_body_and_unsolicited_updates() -> None:
    """A NIL body stays None (the caller checks the message); responses without UID are
    unsolicited and ignored."""
    found = parse_fetch([
        b"1 (UID 4 BODY[] NIL)",
        b"5 (FLAGS (\\Deleted))",
    ])
    assert list(found) == [4] and found[4].body is None


def test_quoted_string_values() -> None:
    """A server may send a short body or header as a quoted string, escapes included."""
    found = parse_fetch([b'1 (UID 8 RFC822.SIZE 3 BODY[HEADER] "a\\\\b\\"c")'])
    assert found[8].header == b'a\\b"c'


def test_status_replies_are_matched_by_name() -> None:
    """Pipelined STATUS answers carry their folder: quoted, atom, literal or modified
    UTF-7 names all map back to the folder asked for, whatever their order."""
    from imapcopy_tui.engine.session import _status_replies

    found = _status_replies([
        b'"a \\"q\\" b" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 8)',
        (b"{11}", b"Donn&AOk-es"), b" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 9)",
        b"Inbox (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 5)",
    ])
    assert {name: s.messages for name, s in found.items()} == {
        'a "q" b': 2, "Données": 1, "INBOX": 3,
    }


def test_status_replies_with_highestmodseq() -> None:
    """HIGHESTMODSEQ is read when the server gives it (in any place); 0 (a folder without
    mod-sequences, RFC 7162) and its absence both mean "not known"."""
    from imapcopy_tui.engine.session import _status_replies

    found = _status_replies([
        b"A (HIGHESTMODSEQ 41 MESSAGES 2 UIDNEXT 3 UIDVALIDITY 8)",
        b"B (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 8 HIGHESTMODSEQ 0)",
        b"C (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 8)",
        b"D (MESSAGES 2 HIGHESTMODSEQ 7)",
    ])
    assert {name: s.highestmodseq for name, s in found.items()} == {
        "A": 41, "B": None, "C": None,
    }
    assert (found["A"].messages, found["A"].uidnext, found["A"].uidvalidity) == (2, 3, 8)


def test_modseq_items_in_fetch_answers_are_passed_over() -> None:
    """Once STATUS (HIGHESTMODSEQ) enabled CONDSTORE, every FETCH answer carries MODSEQ
    (RFC 7162 3.1.4.1): the other items are read as before."""
    found = parse_fetch([
        b'1 (UID 7 MODSEQ (12345) RFC822.SIZE 20 FLAGS (\\Seen) '
        b'INTERNALDATE " 3-Jan-2023 07:30:53 +0200")',
        (b"2 (UID 9 MODSEQ (3) RFC822.SIZE 14 BODY[HEADER] {14}", b"Subject: a\r\n\r\n"), b")",
    ])
    assert found[7].size == 20 and found[7].flags == ("\\Seen",)
    assert found[9].header == b"Subject: a\r\n\r\n" and found[9].size == 14


# --- the UID FETCH reader (bulk.uid_fetch, through ImapSession.fetch), on scripted answers ---


class ScriptedImap:
    """What ImapSession uses of imaplib's connection, answering from a script."""

    def __init__(self, answer: bytes) -> None:
        self._answer = io.BytesIO(answer)
        self.sent: list[bytes] = []
        self.tagged_commands: dict[bytes, object] = {}
        self._next = 1

    def _new_tag(self) -> bytes:
        tag = b"A%d" % self._next
        self._next += 1
        self.tagged_commands[tag] = None
        return tag

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def readline(self) -> bytes:
        return self._answer.readline()

    def read(self, size: int) -> bytes:
        return self._answer.read(size)


def scripted_session(answer: bytes) -> tuple[ImapSession, ScriptedImap]:
    imap = ScriptedImap(answer)
    account = Account(host="imap.example.org", login="a@example.org", password="pw")
    return ImapSession(account, SimpleNamespace(_imap=imap)), imap  # type: ignore[arg-type]


def test_reader_keeps_fetch_responses_and_sets_the_rest_aside() -> None:
    """Bodies, items after a literal, other untagged responses (one with a literal of its
    own) between them; the command sent is the one asked for, the tag is released."""
    answer = (
        b"* 3 EXISTS\r\n"
        b"* 1 FETCH (UID 5 FLAGS (\\Seen) BODY[] {%d}\r\n%s)\r\n" % (len(BODY), BODY)
        + b"* OK [ALERT] note {3}\r\nabc\r\n"
        + b"* 2 FETCH (FLAGS (\\Deleted))\r\n"
        + b"* 3 FETCH (UID 6 BODY[] {%d}\r\n%s FLAGS ($X))\r\n" % (len(BODY), BODY)
        + b"A1 OK Fetch completed.\r\n"
    )
    session, imap = scripted_session(answer)
    found = session.fetch([5, 6], ("FLAGS", "BODY.PEEK[]"))
    assert imap.sent == [b"A1 UID FETCH 5:6 (FLAGS BODY.PEEK[])\r\n"]
    assert imap.tagged_commands == {}
    assert sorted(found) == [5, 6]
    assert found[5].body == BODY and found[5].flags == ("\\Seen",)
    assert found[6].body == BODY and found[6].flags == ("$X",)


def test_reader_refusal_and_protocol_errors() -> None:
    """NO is the server's refusal (its words kept); BAD a protocol error on a connection
    still usable; BYE, an end of stream or an unterminated line a connection lost."""
    session, _ = scripted_session(b"* 1 FETCH (UID 5)\r\nA1 NO [SERVERBUG] broken index\r\n")
    with pytest.raises(ServerError, match="broken index"):
        session.fetch([5], ("FLAGS",))
    session, _ = scripted_session(b"A1 BAD Error in IMAP command\r\n")
    with pytest.raises(ImapCopyError) as bad:
        session.fetch([5], ("FLAGS",))
    assert not isinstance(bad.value, ConnectionLostError) and not session._broken
    for answer in (
        b"* BYE shutting down\r\n",
        b"* 1 FETCH (UID 5 BODY[] {100}\r\nonly part of it",
        b"* 1 FETCH (UID 5 FLAGS ())",
    ):
        session, _ = scripted_session(answer)
        with pytest.raises(ConnectError):
            session.fetch([5], ("BODY.PEEK[]",))
        assert session._broken
