"""Pipelined APPENDs (LITERAL+ without MULTIAPPEND) against a scripted server that answers
nothing until every command of the batch has arrived: a client waiting for each answer
before sending the next command would never get one."""

from __future__ import annotations

import imaplib
import re
import socket
import threading
from datetime import UTC, datetime

import pytest

from imapcopy_tui.engine.bulk import OutgoingMessage, appends_pipelined

_LITERAL_PLUS = re.compile(rb"\{(\d+)\+\}\r\n\Z")
WHEN = datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC)
MESSAGES = [
    OutgoingMessage(b"Subject: one\r\n\r\nlone\rCR\r\n", ("\\Seen",), WHEN),
    OutgoingMessage(b"Subject: two\r\n\r\n" + b"x" * 100_000 + b"\r\n", (), None),  # sent alone
    OutgoingMessage(b"Subject: three\nbare LF\n", ("$Label1",), WHEN),
]


class ScriptedServer:
    """Reads every APPEND of the batch (lines and LITERAL+ literals), then answers each
    command with the next of ``answers``."""

    def __init__(self, sock: socket.socket, answers: list[bytes]) -> None:
        self.sock = sock
        self.sock.settimeout(5)
        self.file = sock.makefile("rb")
        self.answers = answers
        self.commands: list[tuple[bytes, list[bytes]]] = []  # first line, literals
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.sock.sendall(b"* OK scripted\r\n")
            tag = self.file.readline().split(b" ")[0]  # imaplib asks CAPABILITY first
            self.sock.sendall(b"* CAPABILITY IMAP4rev1 LITERAL+\r\n%s OK done\r\n" % tag)
            tags = []
            while len(self.commands) < len(self.answers):
                line = self.file.readline()
                first, literals = line, []
                while (literal := _LITERAL_PLUS.search(line)) is not None:
                    literals.append(self.file.read(int(literal.group(1))))
                    line = self.file.readline()
                self.commands.append((first, literals))
                tags.append(first.split(b" ")[0])
            self.sock.sendall(
                b"".join(b"%s %s\r\n" % (tag, a) for tag, a in zip(tags, self.answers, strict=True))
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.sock.close()


class _OnSocket(imaplib.IMAP4):
    """imaplib on one end of a socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self._given = sock
        super().__init__("scripted", 143)

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        self.host, self.port = host, port
        self.sock = self._given
        self.file = self.sock.makefile("rb")


def _pair(answers: list[bytes]) -> tuple[imaplib.IMAP4, ScriptedServer]:
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    server = ScriptedServer(theirs, answers)
    return _OnSocket(ours), server


def test_every_append_is_sent_before_the_first_answer_is_read() -> None:
    """Three APPENDs, one round trip: each message's bytes as given (lone CR, bare LF),
    its flags and date; the answers come back in order, one per message."""
    imap, server = _pair([b"OK [APPENDUID 7 1] done", b"NO too large", b"OK [APPENDUID 7 2] done"])
    answers = appends_pipelined(imap, b'"INBOX"', MESSAGES, binary_allowed=False)
    server.thread.join(5)
    assert server.error is None
    assert [typ for typ, _ in answers] == ["OK", "NO", "OK"]
    assert answers[1][1] == [b"too large"]
    first_lines = [line for line, _ in server.commands]
    assert first_lines[0].endswith(
        b' APPEND "INBOX" (\\Seen) "03-Feb-2021 04:05:06 +0000" {%d+}\r\n' % len(MESSAGES[0].raw)
    )
    assert first_lines[1].endswith(b' APPEND "INBOX" () {%d+}\r\n' % len(MESSAGES[1].raw))
    assert [literals for _, literals in server.commands] == [[m.raw] for m in MESSAGES]
    assert len({line.split(b" ")[0] for line in first_lines}) == 3  # a tag each


def test_bad_answer_gives_up_the_connection() -> None:
    """After a BAD the server may have read the rest of the stream as commands: the
    connection is not trusted any more (abort: the copier reconnects)."""
    imap, server = _pair([b"OK done", b"BAD what?", b"OK done"])
    with pytest.raises(imaplib.IMAP4.abort):
        appends_pipelined(imap, b'"INBOX"', MESSAGES, binary_allowed=False)
    server.thread.join(5)
    assert server.error is None
