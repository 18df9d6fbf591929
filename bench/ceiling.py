"""The ceiling: a bare streaming copy, the bench's reference row (``--tools ...,ceiling``).

What issue 4 calls the practical ceiling on a machine: per folder one
``UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])`` read as it streams and written straight
into MULTIAPPEND commands with non-synchronising literals (RFC 3502, RFC 7888), two
APPENDs in flight, the folders shared by a few connection pairs, largest first.  Nothing
else: no job state, no progress, no resume, no size or date checks, no retries.  A re-run
would copy everything again, so the bench runs it once per round.  Only the standard
library, so that its start-up is the interpreter's alone.

It is a yardstick, not a tool: it shows how fast this machine lets any client copy this
corpus, so that imapcopy's distance to it can be read next to its ratio to mbsync.

    IMAPCOPY_PASSWORD1=... IMAPCOPY_PASSWORD2=... python bench/ceiling.py \\
        SRC_HOST SRC_PORT SRC_USER DST_HOST DST_PORT DST_USER [PAIRS]
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
from collections.abc import Iterable

BATCH_BYTES = 8 * 1000 * 1000
BATCH_MESSAGES = 500
PAIRS = 2
TIMEOUT = 300.0

_LITERAL_AT_END = re.compile(rb"\{(\d+)\}\r\n$")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_DATE = re.compile(rb'INTERNALDATE ("[^"]+")')
# "* LIST (\HasNoChildren) "/" INBOX": the name as the server wrote it (quoted or an atom),
# used as is in the other commands.  A name sent as a literal is not handled.
_QUOTED = rb'"(?:[^"\\]|\\.)*"'
_LIST = re.compile(rb"^\* LIST \(([^)]*)\) (?:%s|NIL) (%s|[^ {\"]+)\r\n$" % (_QUOTED, _QUOTED))
_MESSAGES = re.compile(rb"MESSAGES (\d+)")


class CeilingError(RuntimeError):
    """A server refused something or went away."""


def quoted(text: str) -> bytes:
    """An IMAP quoted string (ASCII)."""
    return b'"' + text.encode("ascii").replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class Connection:
    """One logged-in IMAP connection: tagged commands, their completion awaited."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self._count = 0
        greeting = self.reader.readline()
        if not greeting.startswith(b"* OK"):
            raise CeilingError(f"{host}:{port}: unexpected greeting {greeting[:80]!r}")
        self.run(b"LOGIN " + quoted(user) + b" " + quoted(password))

    def tag(self) -> bytes:
        """A fresh command tag."""
        self._count += 1
        return b"C%d" % self._count

    def send(self, pieces: Iterable[bytes]) -> None:
        """Write pieces of a command: small ones gathered, large ones from their buffer."""
        gathered: list[bytes] = []
        for piece in pieces:
            if len(piece) < 64 * 1024:
                gathered.append(piece)
                continue
            if gathered:
                self.sock.sendall(b"".join(gathered))
                gathered.clear()
            self.sock.sendall(piece)
        if gathered:
            self.sock.sendall(b"".join(gathered))

    def wait(self, tag: bytes) -> list[bytes]:
        """The untagged lines up to ``tag``'s completion; CeilingError unless it is OK."""
        untagged: list[bytes] = []
        while True:
            line = self.reader.readline()
            if not line:
                raise CeilingError("the server closed the connection")
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1 :].startswith(b"OK"):
                    raise CeilingError(line.decode("utf-8", "replace").strip())
                return untagged
            untagged.append(line)

    def run(self, command: bytes) -> list[bytes]:
        """Send one command without literals and wait for it."""
        tag = self.tag()
        self.send([tag + b" " + command + b"\r\n"])
        return self.wait(tag)

    def close(self) -> None:
        """Log out (best effort) and close."""
        try:
            self.run(b"LOGOUT")
        except (OSError, CeilingError):
            pass
        self.reader.close()
        self.sock.close()


def folders(source: Connection) -> list[tuple[bytes, int]]:
    """The source's selectable folders as wire names, with their message counts."""
    names = []
    for line in source.run(b'LIST "" "*"'):
        found = _LIST.match(line)
        if found is None:
            raise CeilingError(f"cannot read the LIST line {line[:100]!r}")
        attributes = found.group(1).lower()
        if b"\\noselect" not in attributes and b"\\nonexistent" not in attributes:
            names.append(found.group(2))
    counted = []
    for name in names:
        status = b" ".join(source.run(b"STATUS " + name + b" (MESSAGES)"))
        found = _MESSAGES.search(status)
        counted.append((name, int(found.group(1)) if found else 0))
    return counted


def create_missing(destination: Connection, names: list[bytes]) -> None:
    """CREATE every folder but INBOX, parents first; existing ones are fine."""
    for name in sorted(names, key=len):
        if name.strip(b'"').upper() == b"INBOX":
            continue
        tag = destination.tag()
        destination.send([tag + b" CREATE " + name + b"\r\n"])
        try:
            destination.wait(tag)
        except CeilingError as exc:
            if "ALREADYEXISTS" not in str(exc):
                raise


def copy_folder(source: Connection, destination: Connection, name: bytes) -> int:
    """Stream one folder from the source into MULTIAPPENDs; return how many were copied."""
    source.run(b"EXAMINE " + name)
    fetch = source.tag()
    source.send([fetch + b" UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])\r\n"])
    reader = source.reader
    in_flight: list[bytes] = []
    batch: list[bytes] = []
    batch_bytes = copied = 0

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            tag = destination.tag()
            destination.send([tag + b" APPEND " + name, *batch, b"\r\n"])
            in_flight.append(tag)
            if len(in_flight) > 1:
                destination.wait(in_flight.pop(0))
        batch, batch_bytes = [], 0

    while True:
        line = reader.readline()
        if not line:
            raise CeilingError("the source closed the connection")
        if line.startswith(fetch + b" "):
            if not line[len(fetch) + 1 :].startswith(b"OK"):
                raise CeilingError(line.decode("utf-8", "replace").strip())
            break
        literal = _LITERAL_AT_END.search(line)
        if literal is None:
            continue  # EXISTS, a FETCH without a body...
        body = reader.read(int(literal.group(1)))
        head = line + reader.readline()  # the items after the literal, if any
        flags_found, date_found = _FLAGS.search(head), _DATE.search(head)
        if flags_found is None or date_found is None:
            raise CeilingError(f"no FLAGS or INTERNALDATE in {head[:100]!r}")
        flags = b" ".join(f for f in flags_found.group(1).split() if f.lower() != b"\\recent")
        batch += [b" (%s) %s {%d+}\r\n" % (flags, date_found.group(1), len(body)), body]
        batch_bytes += len(body)
        copied += 1
        if batch_bytes >= BATCH_BYTES or len(batch) >= 2 * BATCH_MESSAGES:
            flush()
    flush()
    for tag in in_flight:
        destination.wait(tag)
    return copied


def main(argv: list[str]) -> int:
    """Copy every folder; print how many messages; 0 on success, 1 on an error."""
    if len(argv) not in (6, 7):
        print(__doc__.strip().splitlines()[-2].strip(), file=sys.stderr)
        return 2
    src_host, src_port, src_user, dst_host, dst_port, dst_user = argv[:6]
    pairs = int(argv[6]) if len(argv) == 7 else PAIRS
    src_password = os.environ["IMAPCOPY_PASSWORD1"]
    dst_password = os.environ["IMAPCOPY_PASSWORD2"]

    def source() -> Connection:
        return Connection(src_host, int(src_port), src_user, src_password)

    def destination() -> Connection:
        return Connection(dst_host, int(dst_port), dst_user, dst_password)

    planning, creating = source(), destination()
    todo = folders(planning)
    create_missing(creating, [name for name, _ in todo])
    todo.sort(key=lambda item: -item[1])  # largest first, so that the pairs end together
    lock = threading.Lock()
    copied: list[int] = []
    errors: list[BaseException] = []

    def pair(connections: tuple[Connection, Connection] | None) -> None:
        try:
            src, dst = connections or (source(), destination())
            try:
                while True:
                    with lock:
                        if not todo or errors:
                            return
                        name, _ = todo.pop(0)
                    copied.append(copy_folder(src, dst, name))
            finally:
                src.close()
                dst.close()
        except BaseException as exc:  # noqa: BLE001 - reported by main
            errors.append(exc)

    # The planning connections are the first pair, as in imapcopy.
    threads = [threading.Thread(target=pair, args=((planning, creating),))]
    threads += [threading.Thread(target=pair, args=(None,)) for _ in range(pairs - 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"ceiling copy failed: {errors[0]}", file=sys.stderr)
        return 1
    print(f"copied {sum(copied)} messages in {len(copied)} folders")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
