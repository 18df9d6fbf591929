"""Putting odd mail on a test server and reading it back exactly as IMAP hands it out.

The corpus (:mod:`tests.corpus`) goes through IMAPClient, which would hide what these tests
look for: it formats internal dates with ``strftime`` (year 999 becomes ``999``) and reads
``01-Jan-0001`` as 2001.  Here messages go out as one streamed MULTIAPPEND with the date
strings as written, and come back through imaplib with the dates parsed by ``strptime``,
so what is compared is what the server said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from imapclient import IMAPClient
from imapclient.imap_utf7 import encode as encode_utf7

from tests.dovecot import DovecotServer

_PREFIX = re.compile(
    rb"UID (\d+) RFC822\.SIZE (\d+) FLAGS \(([^)]*)\) INTERNALDATE \"([^\"]+)\" "
    rb"(?:BODY|BINARY)\[\] ~?\{\d+\}$"
)


@dataclass(frozen=True)
class Mail:
    """One message to put on a server: its bytes, flags and INTERNALDATE as IMAP text."""

    raw: bytes
    flags: tuple[str, ...] = ()
    date: str = "01-Feb-2020 10:00:00 +0000"


@dataclass(frozen=True)
class Seen:
    """One message as the server hands it out.  ``internal_date`` compares by instant."""

    uid: int
    body: bytes
    flags: tuple[str, ...]
    internal_date: datetime
    size: int

    def same_as(self, other: Seen) -> bool:
        """Equal in everything but the UID."""
        return (self.body, self.flags, self.internal_date, self.size) == (
            other.body, other.flags, other.internal_date, other.size
        )


def mailbox_name(name: str) -> bytes:
    """``name`` quoted for a command, in modified UTF-7."""
    encoded = encode_utf7(name)
    return b'"' + encoded.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _client(server: DovecotServer, user: str) -> IMAPClient:
    client = server.client(user)
    # IMAPClient sets imaplib's debug level, which makes imaplib build the repr of every
    # response (seconds for a 60 MB message), logged or not.
    client._imap.debug = 0
    return client


def put(server: DovecotServer, user: str, folder: str, mails: Sequence[Mail]) -> None:
    """Append ``mails`` to ``folder`` (created if missing) in one streamed MULTIAPPEND."""
    client = _client(server, user)
    try:
        if folder.upper() != "INBOX" and not client.folder_exists(folder):
            client.create_folder(folder)
        imap = client._imap
        tag = imap._new_tag()
        command = [tag + b" APPEND " + mailbox_name(folder)]
        for mail in mails:
            command.append(b" (%s) \"%s\" {%d+}\r\n" % (
                " ".join(mail.flags).encode(), mail.date.encode(), len(mail.raw)))
            command.append(mail.raw)
        command.append(b"\r\n")
        imap.send(b"".join(command))
        typ, data = imap._command_complete("APPEND", tag)
        assert typ == "OK", data
    finally:
        client.logout()


def read(server: DovecotServer, user: str, folder: str, *, binary: bool = False) -> list[Seen]:
    """The messages of ``folder`` in UID order, read-only; ``binary`` reads ``BINARY[]``
    (RFC 3516: NUL bytes as stored, but encoded parts decoded) instead of ``BODY[]``."""
    client = _client(server, user)
    try:
        exists = client.select_folder(folder, readonly=True)[b"EXISTS"]
        if not exists:
            return []
        body = "BINARY.PEEK[]" if binary else "BODY.PEEK[]"
        typ, data = client._imap.uid(
            "FETCH", "1:*", f"(UID RFC822.SIZE FLAGS INTERNALDATE {body})"
        )
        assert typ == "OK", data
    finally:
        client.logout()
    found = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        match = _PREFIX.search(item[0])
        assert match, item[0]
        uid, size, flags, date = match.groups()
        found.append(Seen(
            uid=int(uid),
            body=item[1],
            flags=tuple(sorted(f for f in flags.decode().split() if f != "\\Recent")),
            internal_date=datetime.strptime(date.decode().strip(), "%d-%b-%Y %H:%M:%S %z"),
            size=int(size),
        ))
    assert len(found) == exists
    return sorted(found, key=lambda s: s.uid)


def assert_same_messages(expected: Sequence[Seen], got: Sequence[Seen], where: str) -> None:
    """The same messages in the same order: bytes, flags, internal date and size."""
    assert len(got) == len(expected), f"{where}: {len(got)} messages, expected {len(expected)}"
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        assert have.body == want.body, f"{where}[{index}]: bytes differ"
        assert have.flags == want.flags, f"{where}[{index}]: flags {have.flags} != {want.flags}"
        assert have.internal_date == want.internal_date, (
            f"{where}[{index}]: internal date {have.internal_date} != {want.internal_date}"
        )
        assert have.size == want.size, f"{where}[{index}]: size"
