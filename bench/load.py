"""Fill a mailbox with a planned corpus quickly: MULTIAPPEND with LITERAL+ over raw sockets.

IMAPClient appends one message per round trip and waits for each ``+`` continuation; here
each folder goes up in a few large ``APPEND`` commands (RFC 3502 MULTIAPPEND) whose literals
are non-synchronising (RFC 7888 ``{n+}``), two commands in flight, one connection per folder
and several folders at once.  ``APPEND`` is the only way in that keeps flags, keywords and
internal dates (``doveadm save`` sets neither).

Dovecot processes the messages of one connection in order, so UID order is plan order.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from imapclient.imap_utf7 import encode as utf7_encode

from bench.corpus import CorpusPlan, PlannedMessage, render

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BATCH_MESSAGES = 500
BATCH_BYTES = 32 * 1000 * 1000
IN_FLIGHT = 2
TIMEOUT = 120.0


class LoadError(RuntimeError):
    """The server refused something while the corpus was being loaded."""


@dataclass(frozen=True)
class LoadResult:
    """What was appended, and how long it took."""

    messages: int
    bytes: int
    seconds: float
    per_folder: dict[str, int]


def imap_date(value: datetime) -> str:
    """An IMAP ``date-time`` (``"14-Jul-2009 18:12:00 +0200"``), independent of the locale."""
    return (
        f"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year:04d} {value:%H:%M:%S} {value:%z}"
    )


def quoted(text: str) -> bytes:
    """An IMAP quoted string; non-ASCII mailbox names must be modified UTF-7 first."""
    return b'"' + text.encode("ascii").replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def mailbox_name(name: str) -> bytes:
    """A mailbox name on the wire: modified UTF-7, quoted."""
    return quoted(utf7_encode(name).decode("ascii"))


class RawImap:
    """A minimal IMAP client: send tagged commands, wait for their completion."""

    def __init__(self, host: str, port: int, timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = self.sock.makefile("rb")
        self._counter = 0
        greeting = self._reader.readline()
        if not greeting.startswith(b"* OK"):
            raise LoadError(f"unexpected greeting {greeting[:80]!r}")

    def close(self) -> None:
        """Log out (best effort) and close the socket."""
        try:
            self.run(b"LOGOUT")
        except (OSError, LoadError):
            pass
        self._reader.close()
        self.sock.close()

    def next_tag(self) -> bytes:
        """A fresh command tag."""
        self._counter += 1
        return b"L%d" % self._counter

    def send(self, pieces: Iterable[bytes]) -> None:
        """Write pieces of one or more commands, coalescing small ones."""
        buffer = bytearray()
        for piece in pieces:
            if len(piece) > 256 * 1024:
                if buffer:
                    self.sock.sendall(buffer)
                    buffer.clear()
                self.sock.sendall(piece)
            else:
                buffer += piece
                if len(buffer) > 1024 * 1024:
                    self.sock.sendall(buffer)
                    buffer.clear()
        if buffer:
            self.sock.sendall(buffer)

    def wait(self, tag: bytes) -> list[bytes]:
        """Read responses up to ``tag``'s completion; return the untagged lines; raise on NO/BAD."""
        untagged: list[bytes] = []
        while True:
            line = self._reader.readline()
            if not line:
                raise LoadError("the server closed the connection")
            if line.startswith(tag + b" "):
                status = line[len(tag) + 1 :]
                if not status.startswith(b"OK"):
                    raise LoadError(f"server said: {status.decode(errors='replace').strip()}")
                return untagged
            untagged.append(line)

    def run(self, command: bytes) -> list[bytes]:
        """Send one literal-free command and wait for it."""
        tag = self.next_tag()
        self.send([tag + b" " + command + b"\r\n"])
        return self.wait(tag)

    def login(self, user: str, password: str) -> None:
        """LOGIN, then check for the extensions the loader relies on."""
        self.run(b"LOGIN " + quoted(user) + b" " + quoted(password))
        caps = b" ".join(self.run(b"CAPABILITY")).upper()
        for needed in (b"MULTIAPPEND", b"LITERAL+"):
            if needed not in caps:
                raise LoadError(f"the server does not offer {needed.decode()}")


def _append_folder(
    host: str,
    port: int,
    user: str,
    password: str,
    folder: str,
    messages: tuple[PlannedMessage, ...],
) -> int:
    """Append one folder's messages in order; return the bytes sent."""
    conn = RawImap(host, port)
    sent = 0
    try:
        conn.login(user, password)
        pending: deque[bytes] = deque()
        index = 0
        while index < len(messages):
            tag = conn.next_tag()
            pieces = [tag + b" APPEND " + mailbox_name(folder)]
            batch_bytes = 0
            count = 0
            while index < len(messages) and count < BATCH_MESSAGES and batch_bytes < BATCH_BYTES:
                msg = messages[index]
                raw = render(msg)
                flags = " ".join(msg.flags)
                pieces.append(
                    f' ({flags}) "{imap_date(msg.internal_date)}" {{{len(raw)}+}}\r\n'.encode()
                )
                pieces.append(raw)
                batch_bytes += len(raw)
                count += 1
                index += 1
            pieces.append(b"\r\n")
            conn.send(pieces)
            sent += batch_bytes
            pending.append(tag)
            while len(pending) >= IN_FLIGHT:
                conn.wait(pending.popleft())
        while pending:
            conn.wait(pending.popleft())
    finally:
        conn.close()
    return sent


def load_corpus(
    host: str, port: int, user: str, password: str, plan: CorpusPlan, workers: int = 3
) -> LoadResult:
    """Create the plan's folders for ``user`` and append every message; check the counts."""
    started = time.monotonic()
    conn = RawImap(host, port)
    try:
        conn.login(user, password)
        for folder in plan.folders:
            if folder != "INBOX":
                conn.run(b"CREATE " + mailbox_name(folder))
            conn.run(b"SUBSCRIBE " + mailbox_name(folder))
        # Biggest folders first so that the pool finishes together.
        order = sorted(
            (f for f in plan.folders if plan.messages[f]),
            key=lambda f: -sum(m.size for m in plan.messages[f]),
        )
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [
                pool.submit(_append_folder, host, port, user, password, f, plan.messages[f])
                for f in order
            ]
            total = sum(future.result() for future in futures)
        counts = {}
        for folder in plan.folders:
            lines = conn.run(b"STATUS " + mailbox_name(folder) + b" (MESSAGES)")
            status = b" ".join(lines)
            counts[folder] = int(status.rsplit(b"MESSAGES", 1)[1].strip(b" )\r\n"))
    finally:
        conn.close()
    expected = {f: len(plan.messages[f]) for f in plan.folders}
    if counts != expected:
        raise LoadError(f"after loading, the folders hold {counts}, not {expected}")
    return LoadResult(plan.count, total, time.monotonic() - started, counts)
