"""A fast reader of UID FETCH responses: the few items the copier asks for, nothing else.

IMAPClient's general parser tokenises every response in Python, which costs more CPU than
the copy itself on large mailboxes.  imaplib already splits responses into lines and
literals; here the non-literal text is searched with a few regular expressions.  Anything
unexpected is left out, so the caller sees a missing item (and checks whether the message
still exists) rather than a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from imapclient.datetime_util import parse_to_datetime

_START = re.compile(rb"^(\d+) \(")
_UID = re.compile(rb"[( ]UID (\d+)")
_SIZE = re.compile(rb"[( ]RFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"[( ]FLAGS \(([^)]*)\)")
_DATE = re.compile(rb'[( ]INTERNALDATE "([^"]+)"')
_LITERAL = re.compile(rb"[( ](BODY\[(?:HEADER)?\]) \{\d+\}\x00(\d+)\x00")
_NIL_BODY = re.compile(rb"[( ](BODY\[(?:HEADER)?\]) NIL")
_QUOTED_BODY = re.compile(rb'[( ](BODY\[(?:HEADER)?\]) "((?:[^"\\]|\\.)*)"')


@dataclass
class FetchedMessage:
    """The items of one message that the copier uses (absent ones stay None)."""

    uid: int
    size: int | None = None
    flags: tuple[str, ...] | None = None
    internal_date: datetime | None = None
    body: bytes | None = None  # BODY[]
    header: bytes | None = None  # BODY[HEADER]
    extra: dict[str, bytes] = field(default_factory=dict)


def _responses(data: list[bytes | tuple[bytes, bytes]]) -> list[tuple[bytes, list[bytes]]]:
    """Group imaplib's pieces into responses: text with literal markers, and the literals."""
    grouped: list[tuple[bytes, list[bytes]]] = []
    text: list[bytes] = []
    literals: list[bytes] = []
    for piece in data:
        line = piece[0] if isinstance(piece, tuple) else piece
        if line is None:
            continue
        if _START.match(line) and text:
            grouped.append((b"".join(text), literals))
            text, literals = [], []
        if isinstance(piece, tuple):
            # Mark where the literal was, by its index, so the item before it can be found.
            text.append(line + b"\x00%d\x00" % len(literals))
            literals.append(piece[1])
        else:
            text.append(line)
    if text:
        grouped.append((b"".join(text), literals))
    return grouped


def parse_fetch(data: list[bytes | tuple[bytes, bytes]]) -> dict[int, FetchedMessage]:
    """The messages of a UID FETCH answer by UID; responses without a UID are ignored
    (unsolicited flag updates)."""
    found: dict[int, FetchedMessage] = {}
    for text, literals in _responses(data):
        uid = _UID.search(text)
        if uid is None:
            continue
        message = found.setdefault(int(uid.group(1)), FetchedMessage(int(uid.group(1))))
        if size := _SIZE.search(text):
            message.size = int(size.group(1))
        if flags := _FLAGS.search(text):
            message.flags = tuple(
                f
                for f in flags.group(1).decode("utf-8", "replace").split()
                if f.lower() != "\\recent"
            )
        if date := _DATE.search(text):
            try:
                message.internal_date = parse_to_datetime(date.group(1), normalise=False)
            except ValueError:
                message.internal_date = None
        for item in _LITERAL.finditer(text):
            value = literals[int(item.group(2))]
            if item.group(1) == b"BODY[]":
                message.body = value
            else:
                message.header = value
        for item in _QUOTED_BODY.finditer(text):  # small values may come as quoted strings
            value = re.sub(rb"\\(.)", rb"\1", item.group(2))
            if item.group(1) == b"BODY[]":
                message.body = value
            else:
                message.header = value
        for item in _NIL_BODY.finditer(text):
            if item.group(1) == b"BODY[HEADER]":
                message.header = b""
    return found
