"""A TCP proxy between the tool and one Dovecot, with faults a test switches on.

The proxy understands just enough IMAP to aim a fault at one command: it reads the
client's commands (the first line, then any literals, ``{n}`` or ``{n+}``) and the server's
lines (and their literals), so a fault can

* cut the connection part-way through a command the client sends (``CUT_REQUEST``),
* cut part-way through the server's answer to it (``CUT_RESPONSE``, e.g. mid-FETCH),
* let the server carry the command out and cut before its tagged answer reaches the client
  (``CUT_BEFORE_REPLY``: the outcome is unknown to the client),
* stop forwarding anything, keeping both sockets open (``STALL``),
* swallow the command and answer it in the server's place (``REPLY``: ``NO [UNAVAILABLE]``,
  a throttling text...), or say ``* BYE`` and close (``BYE``).

:class:`RandomCuts` cuts connections after a random amount of traffic, for the soak test.
Every connection and every command seen is counted, so a test can assert what the tool did,
and the bytes each way.

After a ``COMPRESS`` command that the server accepts (RFC 4978), the rest of the connection
is compressed: the proxy forwards it as it comes, without reading commands (no fault can be
aimed at a command any more), but still counting bytes; a ``CUT_RESPONSE`` aimed at the
``COMPRESS`` command itself cuts the compressed stream after ``after_bytes`` bytes.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from enum import Enum

_LITERAL = re.compile(rb"\{(\d+)(\+?)\}\r\n$")
_COMMAND = re.compile(rb"^(\S+) (?:UID )?([A-Za-z]+)")
_COMPRESS = re.compile(rb"^\S+ COMPRESS ", re.IGNORECASE)
_CHUNK = 64 * 1024


class Action(Enum):
    CUT_REQUEST = "cut part-way through the client's command"
    CUT_RESPONSE = "cut part-way through the server's answer"
    CUT_BEFORE_REPLY = "cut just before the tagged answer"
    STALL = "stop forwarding, keep the sockets open"
    REPLY = "answer in the server's place"
    BYE = "say BYE and close"


@dataclass
class Fault:
    """What to do to the commands whose first line (after the tag) matches ``command``."""

    command: bytes  # a regex on the command line after the tag, e.g. rb"APPEND", rb"UID FETCH"
    action: Action
    after_bytes: int = 0  # CUT_REQUEST / CUT_RESPONSE: how much to let through first
    reply: bytes = b"NO [UNAVAILABLE] Temporary failure, try again later"
    times: int = 1  # how many matching commands it hits; then it is spent
    skip: int = 0  # let this many matching commands through untouched first
    hits: int = 0

    def matches(self, line: bytes) -> bool:
        return re.search(self.command, line.split(b" ", 1)[-1], re.IGNORECASE) is not None


@dataclass
class RandomCuts:
    """Cut every connection after a random number of bytes (both ways) in ``[low, high)``.

    Connections are numbered; the first ``spare`` are left alone (a test's own setup).
    """

    low: int
    high: int
    seed: int = 1
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def threshold(self) -> int:
        return self.rng.randrange(self.low, self.high)


class _Reader:
    """Reads CRLF lines and exact byte counts from a socket, keeping what is left over."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> None:
        data = self.sock.recv(_CHUNK)
        if not data:
            raise EOFError
        self.buffer += data

    def line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self.buffer[: end + 2])
        del self.buffer[: end + 2]
        return line

    def any(self) -> bytes:
        """Whatever comes next, as it comes (a compressed stream has no lines)."""
        if not self.buffer:
            self._fill()
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def chunks(self, count: int) -> Iterator[bytes]:
        """``count`` bytes, in the pieces they arrive in."""
        while count > 0:
            if not self.buffer:
                self._fill()
            piece = bytes(self.buffer[:count])
            del self.buffer[: len(piece)]
            count -= len(piece)
            yield piece


class _Cut(Exception):
    """This connection is to be cut now."""


class _Connection:
    """One client connection and its connection to the server: two pumping threads."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, number: int) -> None:
        self.proxy = proxy
        self.number = number
        self.client = client
        self.server = socket.create_connection(proxy.target)
        self.closed = threading.Event()
        self.stalled = threading.Event()
        self.lock = threading.Lock()
        self.cut_before_reply: set[bytes] = set()  # tags whose tagged answer is never passed on
        self.cut_response_after: int | None = None  # bytes of server answer still to pass on
        self.traffic = 0
        self.compress_tag: bytes | None = None  # COMPRESS sent, not yet answered
        self.compress_answered = threading.Event()
        self.compressed = False  # the server said OK to COMPRESS: raw bytes from now on
        self.limit = proxy.random_cuts.threshold() if proxy.random_cuts else None
        for sock in (self.client, self.server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def start(self) -> None:
        for target, name in ((self._client_to_server, "c2s"), (self._server_to_client, "s2c")):
            threading.Thread(
                target=self._pump, args=(target,), name=f"proxy-{self.number}-{name}", daemon=True
            ).start()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self.compress_answered.set()  # a client pump waiting for that answer ends too
        for sock in (self.client, self.server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()

    def _pump(self, target: object) -> None:
        try:
            target()  # type: ignore[operator]
        except (_Cut, EOFError, OSError):
            pass
        finally:
            self.close()

    def _count(self, size: int) -> None:
        with self.lock:
            self.traffic += size
            if self.limit is not None and self.traffic >= self.limit:
                self.proxy.note("random cut")
                raise _Cut

    def _send(self, sock: socket.socket, data: bytes) -> None:
        if self.stalled.is_set():
            return  # swallowed: the other side waits for ever (until its timeout)
        self._count(len(data))
        to_server = sock is self.server
        self.proxy.count_bytes(len(data), to_server=to_server)
        if self.proxy.delay and not to_server:
            time.sleep(self.proxy.delay)  # a slow link: every answer comes this much later
        sock.sendall(data)

    # --- client to server: whole commands -------------------------------------------

    def _client_to_server(self) -> None:
        reader = _Reader(self.client)
        while True:
            line = reader.line()
            # Kept here, not read back from compress_tag: the server's answer may clear
            # that before this thread gets to look, and compressed bytes would then be
            # read as lines (a stall until the tool's read timeout).
            compress = _COMPRESS.match(line) is not None
            if compress:
                self.compress_tag = line.split(b" ", 1)[0]
            fault = self.proxy.fault_for(
                line, armed=self.cut_response_after is not None, connection=self.number
            )
            if fault is None or fault.action in (Action.CUT_RESPONSE, Action.CUT_BEFORE_REPLY):
                if fault is not None and fault.action is Action.CUT_RESPONSE:
                    self.cut_response_after = fault.after_bytes
                if fault is not None and fault.action is Action.CUT_BEFORE_REPLY:
                    self.cut_before_reply.add(line.split(b" ", 1)[0])
                self._forward_command(reader, line, budget=None)
                if compress:
                    # Nothing more comes from the client before the answer (RFC 4978).
                    self.compress_answered.wait()
                    if self.compressed:
                        while True:
                            self._send(self.server, reader.any())
            elif fault.action is Action.CUT_REQUEST:
                self._forward_command(reader, line, budget=fault.after_bytes)
                raise _Cut  # the whole command fitted in the budget: cut right after it
            elif fault.action is Action.STALL:
                self.stalled.set()
                while True:  # keep reading, so that the client's close ends the connection
                    reader.line()
            elif fault.action is Action.REPLY:
                self._swallow_command(reader, line)
                tag = line.split(b" ", 1)[0]
                self.client.sendall(tag + b" " + fault.reply + b"\r\n")
            elif fault.action is Action.BYE:
                self._swallow_command(reader, line)
                self.client.sendall(b"* BYE " + fault.reply + b"\r\n")
                raise _Cut

    def _forward_command(self, reader: _Reader, line: bytes, budget: int | None) -> None:
        def forward(data: bytes) -> None:
            nonlocal budget
            if budget is not None:
                if len(data) > budget:
                    self._send(self.server, data[:budget])
                    raise _Cut
                budget -= len(data)
            self._send(self.server, data)

        while True:
            forward(line)
            literal = _LITERAL.search(line)
            if literal is None:
                return
            for piece in reader.chunks(int(literal.group(1))):
                forward(piece)
            line = reader.line()

    def _swallow_command(self, reader: _Reader, line: bytes) -> None:
        while (literal := _LITERAL.search(line)) is not None:
            if not literal.group(2):  # a synchronising literal waits for our go-ahead
                self.client.sendall(b"+ go ahead\r\n")
            for _ in reader.chunks(int(literal.group(1))):
                pass
            line = reader.line()

    # --- server to client: lines and literals ---------------------------------------

    def _server_to_client(self) -> None:
        reader = _Reader(self.server)
        while True:
            line = reader.line()
            if line.split(b" ", 1)[0] in self.cut_before_reply:
                self.proxy.note("cut before reply")
                raise _Cut
            self._pass_back(line)
            if self.compress_tag is not None and line.startswith(self.compress_tag + b" "):
                self.compressed = line.split(b" ", 2)[1].upper() == b"OK"
                self.compress_tag = None
                self.compress_answered.set()
                if self.compressed:
                    while True:
                        self._pass_back(reader.any())
            literal = _LITERAL.search(line)
            if literal is not None:
                for piece in reader.chunks(int(literal.group(1))):
                    self._pass_back(piece)

    def _pass_back(self, data: bytes) -> None:
        if self.cut_response_after is not None:
            if len(data) > self.cut_response_after:
                self._send(self.client, data[: self.cut_response_after])
                self.proxy.note("cut response")
                raise _Cut
            self.cut_response_after -= len(data)
        self._send(self.client, data)


class FaultProxy:
    """Listens on a loopback port and forwards to ``target``, injecting the faults set."""

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.faults: list[Fault] = []
        self.random_cuts: RandomCuts | None = None
        self.commands: Counter[str] = Counter()  # by verb, as the proxy saw them
        self.lines: list[tuple[int, bytes]] = []  # (connection number, command's first line)
        self.events: Counter[str] = Counter()  # faults that fired
        self.connections = 0
        self.bytes_to_server = 0  # as they went over the wire (compressed or not)
        self.bytes_to_client = 0
        self.delay = 0.0  # seconds added before passing on each piece of the server's answers
        self._lock = threading.Lock()
        self._live: list[_Connection] = []
        self._listener = socket.create_server((self.host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """No more faults; connections already stalled stay stalled."""
        with self._lock:
            self.faults.clear()
            self.random_cuts = None

    def count_bytes(self, size: int, *, to_server: bool) -> None:
        with self._lock:
            if to_server:
                self.bytes_to_server += size
            else:
                self.bytes_to_client += size

    def note(self, event: str) -> None:
        with self._lock:
            self.events[event] += 1

    def fault_for(
        self, line: bytes, *, armed: bool = False, connection: int = 0
    ) -> Fault | None:
        """The fault for this command line, if any; ``armed`` says the connection is already
        counting down to a cut in the server's answers (no second one is armed meanwhile)."""
        command = _COMMAND.match(line)
        with self._lock:
            if command:
                self.commands[command.group(2).decode().upper()] += 1
                self.lines.append((connection, line.split(b" ", 1)[-1][:200]))
            for fault in self.faults:
                if fault.hits >= fault.times or not fault.matches(line):
                    continue
                if armed and fault.action is Action.CUT_RESPONSE:
                    continue
                if fault.skip:
                    fault.skip -= 1
                    continue
                fault.hits += 1
                self.events[fault.action.name] += 1
                return fault
        return None

    def close(self) -> None:
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            live = list(self._live)
        for connection in live:
            connection.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            try:
                connection = _Connection(self, client, number)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._live = [c for c in self._live if not c.closed.is_set()] + [connection]
            connection.start()
