"""The protocol trace: what it writes of a conversation, and what it never writes."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from imapcopy_tui.engine.trace import HIDDEN, ConnectionTrace, TraceFile

PASSWORD = b"s3cr\xc3\xa9t-pw"  # UTF-8
PLAIN = base64.b64encode(b"\0alice\0" + PASSWORD)
BODY = b"From: a@example.org\r\nSubject: hello\r\n\r\n" + b"BODY-LINE " * 2000 + b"\r\n"

# (direction, bytes) as a real session sends and reads them, imaplib's own pieces included
# (an AUTHENTICATE response and its CRLF go out in two writes).
CONVERSATION: list[tuple[str, bytes]] = [
    ("S", b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
    ("C", b"a1 LOGIN alice \"s3cret-login\"\r\n"),
    ("S", b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    ("C", b"a2 AUTHENTICATE PLAIN\r\n"),
    ("S", b"+ \r\n"),
    ("C", PLAIN),
    ("C", b"\r\n"),
    ("S", b"a2 OK Logged in\r\n"),
    ("C", b"a3 LOGIN {5}\r\n"),
    ("S", b"+ OK\r\n"),
    ("C", b"alice {10}\r\n"),
    ("S", b"+ OK\r\n"),
    ("C", PASSWORD + b"\r\n"),
    ("S", b"a3 OK Logged in\r\n"),
    ("C", b"a4 AUTHENTICATE PLAIN " + PLAIN + b"\r\n"),
    ("S", b"a4 OK Logged in\r\n"),
    ("C", b'a5 APPEND "INBOX" (\\Seen) {%d+}\r\n' % len(BODY) + BODY + b"\r\n"),
    ("S", b"a5 OK [APPENDUID 1 7] Append completed.\r\n"),
    ("C", b"a6 UID FETCH 7 (BODY.PEEK[])\r\n"),
    ("S", b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(BODY)),
    ("S", BODY),
    ("S", b")\r\n"),
    ("S", b"a6 OK Fetch completed.\r\n"),
    ("C", b"a7 LOGOUT\r\n"),
]


def run(conversation: list[tuple[str, bytes]], piece: int | None = None) -> list[str]:
    """The trace lines of ``conversation``, fed whole or ``piece`` bytes at a time."""
    lines: list[str] = []
    trace = ConnectionTrace(lines.append, "source#1")
    for side, data in conversation:
        feed = trace.sent if side == "C" else trace.received
        chunks = [data] if piece is None else [
            data[i : i + piece] for i in range(0, len(data), piece)]
        for chunk in chunks:
            feed(chunk)
    return [line.split(" ", 2)[2].rstrip("\n") for line in lines]  # without time and name


def test_logins_are_hidden_and_the_rest_is_shown() -> None:
    """LOGIN without its arguments, AUTHENTICATE without its response (on the command line
    or as a continuation), a LOGIN in literals hidden to its end; then commands show again."""
    lines = run(CONVERSATION)
    assert lines[:15] == [
        "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready",
        f"C: a1 LOGIN {HIDDEN}",
        "S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        "C: a2 AUTHENTICATE PLAIN",
        "S: + ",
        f"C: {HIDDEN}",
        "S: a2 OK Logged in",
        f"C: a3 LOGIN {HIDDEN}",
        "S: + OK",
        f"C: [literal 5 bytes] {HIDDEN}",
        f"C: {HIDDEN}",
        "S: + OK",
        f"C: [literal 10 bytes] {HIDDEN}",
        f"C: {HIDDEN}",
        "S: a3 OK Logged in",
    ]
    assert lines[15:17] == [f"C: a4 AUTHENTICATE PLAIN {HIDDEN}", "S: a4 OK Logged in"]
    assert lines[-1] == "C: a7 LOGOUT"


def test_no_secret_in_any_form() -> None:
    """Neither password, raw, UTF-8 or in its AUTHENTICATE PLAIN base64, reaches the trace."""
    text = "\n".join(run(CONVERSATION))
    for secret in ("s3cret-login", PASSWORD.decode(), "s3cr", PLAIN.decode(),
                   base64.b64encode(PASSWORD).decode()):
        assert secret not in text


def test_literals_are_their_size_and_first_bytes() -> None:
    """A message is written as its size and its start, in both directions: never whole."""
    lines = run(CONVERSATION)
    appended = lines.index(f'C: a5 APPEND "INBOX" (\\Seen) {{{len(BODY)}+}}')
    literal = f"C: [literal {len(BODY)} bytes] From: a@example.org\\r\\n"
    assert lines[appended + 1].startswith(literal)
    assert lines[appended + 2] == "C: "  # the CRLF ending the APPEND
    fetched = lines.index(f"S: * 1 FETCH (UID 7 BODY[] {{{len(BODY)}}}")
    assert lines[fetched + 1].startswith(f"S: [literal {len(BODY)} bytes] From: ")
    assert sum(line.count("BODY-LINE") for line in lines) < 20
    assert max(len(line) for line in lines) < 600


@pytest.mark.parametrize("piece", [1, 3, 7, 64])
def test_the_same_whatever_the_pieces(piece: int) -> None:
    """Bytes cut anywhere (a command split over writes, many commands in one) give the same
    trace: the masking follows the protocol, not the calls."""
    assert run(CONVERSATION, piece) == run(CONVERSATION)
    joined = [("C", b"".join(d for s, d in CONVERSATION[3:8] if s == "C"))]
    assert run(joined) == ["C: a2 AUTHENTICATE PLAIN", f"C: {HIDDEN}"]


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_trace_file_is_private(tmp_path: Path, umask: int) -> None:
    """Created 0600 whatever the umask; an existing file is made 0600 and appended to."""
    old = os.umask(umask)
    try:
        new = TraceFile(tmp_path / "new.trace")
        new.write("one\n")
        new.close()
        existing = tmp_path / "old.trace"
        existing.write_text("before\n")
        existing.chmod(0o644)
        TraceFile(existing).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.trace").stat().st_mode) == 0o600
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert existing.read_text() == "before\n"


def test_a_stopped_trace_never_breaks_a_connection(tmp_path: Path) -> None:
    """A connection still closing after the trace was stopped writes nothing, raises
    nothing (the trace is an aid; it must not end a copy)."""
    sink = TraceFile(tmp_path / "t")
    trace = sink.connection("source")
    sink.close()
    trace.sent(b"a9 LOGOUT\r\n")
    assert (tmp_path / "t").read_text() == ""
