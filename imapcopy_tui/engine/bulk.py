"""The two commands that carry the mail, sent and read here on imaplib's connection
rather than through IMAPClient: ``UID FETCH`` of many messages, and ``APPEND`` of many
(MULTIAPPEND, RFC 3502) streamed as non-synchronising literals (LITERAL+, RFC 7888); for
servers without MULTIAPPEND, one APPEND per message, pipelined with LITERAL+
(:func:`appends_pipelined`) or alone, after the server's go-ahead (:func:`append_one`).

IMAPClient (and imaplib's general loop under it) tries several regular expressions and
formats a log entry for every line it reads, and gathers an APPEND into one buffer: that
cost more CPU than the copy itself.  :class:`~imapcopy_tui.engine.session.ImapSession`
calls these under its guard, which turns imaplib's errors into ours; what is read is parsed
by :func:`~imapcopy_tui.engine.wire.parse_fetch`.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapcopy_tui.engine.wire import format_internal_date

_COALESCE_BELOW = 64 * 1024  # smaller messages are gathered into one write
# An untagged response: "* 12 FETCH (...)" (a number first) or "* OK ...", "* BYE ...".
_UNTAGGED = re.compile(rb"\* (?:(\d+) )?([A-Za-z-]+)(?: (.*))?\Z", re.DOTALL)
_LITERAL_AT_END = re.compile(rb"\{(\d+)\}\Z")


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to APPEND: its exact bytes, flags and keywords, and internal date."""

    raw: bytes
    flags: tuple[str, ...]
    internal_date: datetime | None


def uid_fetch(
    imap: imaplib.IMAP4, uids: str, items: str
) -> tuple[str, list[bytes | tuple[bytes, bytes]]]:
    """``UID FETCH``, its answer read here.  Returns what ``imaplib.IMAP4.uid`` would: the
    FETCH responses as imaplib shapes them (a line, or a line and its literal) after OK,
    the text after NO.  Other untagged responses (EXISTS, EXPUNGE...) are read and set
    aside.  BAD raises ``imaplib.IMAP4.error``; BYE, the end of the stream or a line cut
    short raise ``imaplib.IMAP4.abort``.
    """
    tag = imap._new_tag()  # registers the tag, as imaplib does for its own commands
    imap.send(b"%s UID FETCH %s (%s)\r\n" % (tag, uids.encode("ascii"), items.encode("ascii")))
    done = tag + b" "
    readline, read = imap.readline, imap.read
    fetched: list[bytes | tuple[bytes, bytes]] = []
    while True:
        line = readline()
        if not line.endswith(b"\r\n"):
            raise imaplib.IMAP4.abort(
                "socket error: " + (f"unterminated line: {line[:80]!r}" if line else "EOF")
            )
        line = line[:-2]
        if line.startswith(done):
            del imap.tagged_commands[tag]
            status, _, text = line[len(done) :].partition(b" ")
            typ = status.decode("ascii", "replace").upper()
            if typ == "BAD":
                raise imaplib.IMAP4.error(f"UID command error: BAD [{text!r}]")
            return typ, fetched if typ == "OK" else [text]
        untagged = _UNTAGGED.match(line)
        if untagged is None:
            raise imaplib.IMAP4.abort(f"unexpected response: {line[:80]!r}")
        number, kind, rest = untagged.groups()
        if kind.upper() == b"BYE":
            raise imaplib.IMAP4.abort(line[2:].decode("utf-8", "replace"))
        keep = number is not None and kind.upper() == b"FETCH"
        piece = number + b" " + (rest or b"") if keep else b""
        while (literal := _LITERAL_AT_END.search(line)) is not None:
            value = read(int(literal.group(1)))
            if keep:
                fetched.append((piece, value))
            line = readline()
            if not line.endswith(b"\r\n"):
                raise imaplib.IMAP4.abort("socket error: unterminated line after a literal")
            piece = line = line[:-2]
        if keep:
            fetched.append(piece)


def multiappend_streamed(
    imap: imaplib.IMAP4,
    mailbox: bytes,
    messages: Sequence[OutgoingMessage],
    *,
    binary_allowed: bool,
) -> tuple[str, list[Any]]:
    """``APPEND`` of ``messages`` to ``mailbox`` (quoted, as IMAPClient writes a folder
    name) in one command, each message a non-synchronising literal: the server must offer
    LITERAL+ and MULTIAPPEND.  A message holding NUL goes as a binary literal (RFC 3516)
    when ``binary_allowed``.  Returns imaplib's ``(typ, data)`` of the tagged answer.
    """
    tag = imap._new_tag()  # registers the tag, so imaplib collects its answer
    stream = _Stream(imap)
    stream.write(tag + b" APPEND " + mailbox)
    for message in messages:
        _write_message(stream, message, binary_allowed)
    stream.write(b"\r\n")
    stream.flush()
    typ, data = imap._command_complete("APPEND", tag)
    return typ, data


def appends_pipelined(
    imap: imaplib.IMAP4,
    mailbox: bytes,
    messages: Sequence[OutgoingMessage],
    *,
    binary_allowed: bool,
) -> list[tuple[str, list[Any]]]:
    """One ``APPEND`` per message to ``mailbox``, every one sent before the first answer is
    read: for a server offering LITERAL+ but not MULTIAPPEND (Exchange, Microsoft 365), a
    batch then costs one round trip instead of one per message.  The server carries the
    commands out in the order sent, so the messages arrive in order; each is its own
    transaction, stored or refused alone.  Returns imaplib's ``(typ, data)`` per message,
    in order.  A BAD raises ``imaplib.IMAP4.abort``: after it the server may have read
    the rest of the stream as commands, so the connection cannot be trusted.
    """
    tags = []
    stream = _Stream(imap)
    for message in messages:
        tag = imap._new_tag()
        tags.append(tag)
        stream.write(tag + b" APPEND " + mailbox)
        _write_message(stream, message, binary_allowed)
        stream.write(b"\r\n")
    stream.flush()
    answers = []
    for tag in tags:
        try:
            typ, data = imap._command_complete("APPEND", tag)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:  # BAD
            raise imaplib.IMAP4.abort(f"pipelined APPEND answered {exc}") from exc
        answers.append((typ, data))
    return answers


class _Stream:
    """Pieces of commands on their way out: small ones are gathered and joined once (a
    bytearray grown message by message copied each byte several times); a large one goes
    out from its own buffer."""

    def __init__(self, imap: imaplib.IMAP4) -> None:
        self._imap = imap
        self._pending: list[bytes] = []

    def write(self, piece: bytes) -> None:
        if len(piece) < _COALESCE_BELOW:
            self._pending.append(piece)
            return
        self.flush()
        self._imap.send(piece)

    def flush(self) -> None:
        if self._pending:
            self._imap.send(b"".join(self._pending))
            self._pending.clear()


def _write_message(stream: _Stream, message: OutgoingMessage, binary_allowed: bool) -> None:
    """`` (flags) "date" {n+}`` and the message: one message of an APPEND command."""
    flags = " ".join(message.flags).encode("ascii")
    date = b""
    if message.internal_date is not None:
        date = b' "' + format_internal_date(message.internal_date).encode() + b'"'
    # NUL bytes only travel in a binary literal (RFC 3516); see can_append_nul.
    binary = b"~" if binary_allowed and b"\x00" in message.raw else b""
    stream.write(b" (%s)%s %s{%d+}\r\n" % (flags, date, binary, len(message.raw)))
    stream.write(message.raw)


def append_one(
    imap: imaplib.IMAP4, mailbox: bytes, message: OutgoingMessage
) -> tuple[str, list[Any]]:
    """``APPEND`` of one message to ``mailbox`` (quoted), its bytes exactly as given.

    imaplib's own ``append`` (which IMAPClient's calls) turns every lone CR or LF of the
    message into CRLF, which changes the bytes and the size (and with them the message's
    identity, so a later run would copy it again), and IMAPClient writes a year below 1000
    with three digits, which servers refuse.  The message goes as a synchronising literal,
    after the server's go-ahead, even where LITERAL+ is offered: this is the careful path
    (one message at a time, after a failure), and a server that refuses the command line
    then never reads the message's lines as commands.  Returns imaplib's ``(typ, data)``.
    A message holding NUL cannot go this way (``can_append_nul`` keeps it away).
    """
    date = None
    if message.internal_date is not None:
        date = '"' + format_internal_date(message.internal_date) + '"'
    # Sent as is once the server answers "+" (typeshed says str; imaplib's append sets bytes).
    imap.literal = message.raw  # type: ignore[assignment]
    typ, data = imap._simple_command("APPEND", mailbox, "(" + " ".join(message.flags) + ")", date)
    return typ, data
