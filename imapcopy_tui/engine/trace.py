"""The protocol trace: the IMAP conversation of every connection, written to a file.

Opt-in (``imapcopy sync --debugimap FILE``, after imapsync's ``--debugimap``), for finding
out what a server really said.  The file is created 0600 and opened for appending; every
connection of the process writes to it, each line naming its connection::

    2025-05-01 10:00:00.120Z source#1 connected to imap.example.org:993 (tls)
    10:00:00.121 source#1 S: * OK [CAPABILITY IMAP4rev1 ...] ready.
    10:00:00.130 source#1 C: a0002 LOGIN [hidden]
    10:00:00.131 source#1 S: a0002 OK [CAPABILITY IMAP4rev1 ...] Logged in
    10:00:00.402 destination#2 C: a0009 APPEND "INBOX" (\\Seen) "01-Jan-2020 ..." {5123+}
    10:00:00.402 destination#2 C: [literal 5123 bytes] Return-Path: <a@example.org>\\r\\n...

Secrets never reach it: a LOGIN command is written without its arguments, an AUTHENTICATE
command without anything after the mechanism, and every line the client sends until the
server answers that command's tag (the SASL responses, literals included) as ``[hidden]``.
Message bodies are not dumped: a literal is written as its size and its first bytes.

It hooks the imaplib connection's ``send``/``readline``/``read`` (what every command, IMAPClient's
and the gateway's own pipelined ones, goes through), not imaplib's debug output: that stays
off (``debug = 0``), for speed and because it would print the password.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import re
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from imapcopy_tui.engine.account import Account

if TYPE_CHECKING:
    from typing_extensions import Buffer

HIDDEN = "[hidden]"
_PREVIEW = 60  # bytes of a literal shown
_LINE = 500  # characters of a line shown
_LITERAL_MARK = re.compile(rb"~?\{(\d+)\+?\}\r?\n\Z")
_SECRET_COMMAND = re.compile(
    rb"(\S+) +(LOGIN|AUTHENTICATE)\b *(\S*)(.*)", re.IGNORECASE | re.DOTALL
)


def _printable(data: bytes, limit: int) -> str:
    """``data`` as one line of text: control characters escaped, at most ``limit`` bytes."""
    text = data[:limit].decode("utf-8", "backslashreplace")
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return shown + ("…" if len(data) > limit else "")


class _Stream:
    """One direction of a connection, cut into lines and literals as the bytes go by.

    Bytes may come in any pieces (imaplib sends a literal and its CRLF apart; the gateway
    sends many commands and literals in one piece).
    """

    def __init__(
        self,
        on_line: Callable[[bytes, int | None], None],
        on_literal: Callable[[int, bytes], None],
    ) -> None:
        self._on_line = on_line
        self._on_literal = on_literal
        self._line = bytearray()
        self._literal_size = 0
        self._literal_left = 0
        self._literal_head = bytearray()

    def feed(self, data: bytes) -> None:
        position = 0
        while position < len(data):
            if self._literal_left:
                take = min(self._literal_left, len(data) - position)
                room = _PREVIEW + 1 - len(self._literal_head)
                if room > 0:
                    self._literal_head += data[position : position + min(take, room)]
                self._literal_left -= take
                position += take
                if not self._literal_left:
                    self._end_literal()
                continue
            end = data.find(b"\n", position)
            if end < 0:
                self._line += data[position:]
                return
            self._line += data[position : end + 1]
            position = end + 1
            line = bytes(self._line)
            self._line.clear()
            mark = _LITERAL_MARK.search(line)
            size = int(mark.group(1)) if mark else None
            self._on_line(line, size)
            if size is not None:
                self._literal_size = self._literal_left = size
                if not size:
                    self._end_literal()

    def _end_literal(self) -> None:
        self._on_literal(self._literal_size, bytes(self._literal_head))
        self._literal_head.clear()


class ConnectionTrace:
    """Turns one connection's bytes into trace lines, hiding the credentials."""

    def __init__(self, write: Callable[[str], None], name: str) -> None:
        self._write = write
        self.name = name
        self._secret_tag: bytes | None = None  # LOGIN/AUTHENTICATE sent, not yet answered
        self._continuing = False  # the client's next line is the rest of a command
        self._client = _Stream(self._client_line, self._client_literal)
        self._server = _Stream(self._server_line, self._server_literal)

    def sent(self, data: bytes) -> None:
        self._client.feed(data)

    def received(self, data: bytes) -> None:
        self._server.feed(data)

    def _emit(self, side: str, text: str) -> None:
        now = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        self._write(f"{now} {self.name} {side} {text}\n")

    def _client_line(self, line: bytes, literal: int | None) -> None:
        secret = None if self._continuing or self._secret_tag else _SECRET_COMMAND.match(line)
        if self._secret_tag is not None:
            text = HIDDEN  # SASL responses, or the rest of the LOGIN command after a literal
        elif secret is not None:
            self._secret_tag = secret.group(1)
            command, mechanism, rest = secret.group(2, 3, 4)
            if command.upper() == b"LOGIN":
                text = f"{_printable(secret.group(1), 64)} LOGIN {HIDDEN}"
            else:
                text = f"{_printable(secret.group(1), 64)} AUTHENTICATE " + _printable(
                    mechanism, 64
                )
                if rest.strip():
                    text += f" {HIDDEN}"
        else:
            text = _printable(line.rstrip(b"\r\n"), _LINE)
        self._continuing = literal is not None
        self._emit("C:", text)

    def _client_literal(self, size: int, head: bytes) -> None:
        if self._secret_tag is not None:
            self._emit("C:", f"[literal {size} bytes] {HIDDEN}")
        else:
            self._emit("C:", f"[literal {size} bytes] {_printable(head, _PREVIEW)}")

    def _server_line(self, line: bytes, literal: int | None) -> None:
        self._emit("S:", _printable(line.rstrip(b"\r\n"), _LINE))
        if self._secret_tag is not None and line.startswith(self._secret_tag + b" "):
            self._secret_tag = None

    def _server_literal(self, size: int, head: bytes) -> None:
        self._emit("S:", f"[literal {size} bytes] {_printable(head, _PREVIEW)}")


class TraceFile:
    """The trace file (0600, appended to), shared by every connection of the process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if stat.S_ISREG(os.fstat(self._fd).st_mode):
            os.fchmod(self._fd, 0o600)  # an existing file too: the trace holds mail excerpts
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "backslashreplace")
        with self._lock:
            if self._fd < 0:
                return  # a connection closing after the trace was stopped
            try:
                os.write(self._fd, data)
            except OSError:
                pass  # a full disk must not stop the copy: the trace is only an aid

    def connection(self, role: str) -> ConnectionTrace:
        return ConnectionTrace(self.write, f"{role}#{next(self._numbers)}")

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


_active: TraceFile | None = None


def start(path: Path) -> TraceFile:
    """Trace every connection opened from now on into ``path`` (raises ``OSError``)."""
    global _active
    stop()
    _active = TraceFile(path)
    return _active


def stop() -> None:
    global _active
    if _active is not None:
        _active.close()
        _active = None


def attach(imap: imaplib.IMAP4, account: Account) -> None:
    """Trace ``imap`` (just connected) if a trace is on; otherwise do nothing."""
    sink = _active
    if sink is None:
        return
    trace = sink.connection(account.role)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    sink.write(
        f"{when}Z {trace.name} connected to {account.host}:{account.port} "
        f"({account.security.value}) as {account.login}\n"
    )
    trace.received(imap.welcome + b"\r\n")
    send, readline, read = imap.send, imap.readline, imap.read

    def traced_send(data: Buffer) -> None:
        trace.sent(bytes(data))
        send(data)

    def traced_readline() -> bytes:
        line = readline()
        trace.received(line)
        return line

    def traced_read(size: int) -> bytes:
        data = read(size)
        trace.received(data)
        return data

    imap.send = traced_send  # type: ignore[method-assign]
    imap.readline = traced_readline  # type: ignore[method-assign]
    imap.read = traced_read  # type: ignore[method-assign]
