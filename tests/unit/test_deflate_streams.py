"""The COMPRESS=DEFLATE streams (engine/compress.py), over real socket pairs."""

from __future__ import annotations

import io
import random
import socket
import threading
import zlib
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from imapcopy_tui.engine.compress import DeflatingSocket, InflatingReader, is_wrapped, wrap


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.settimeout(5)
    b.settimeout(5)
    yield a, b
    a.close()
    b.close()


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def mail(size: int, seed: int = 1) -> bytes:
    """Mail-like text (compressible) with some random bytes (not), ``size`` bytes."""
    rng = random.Random(seed)
    words = [b"Received:", b"from", b"example.org", b"Subject:", b"hello", b"=20", b"\r\n"]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choices(words, k=100)) + rng.randbytes(64)
    return bytes(out[:size])


class Trickle:
    """A source giving the compressed bytes one at a time (the worst packetisation)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.closed = False

    def read1(self, size: int = -1) -> bytes:
        piece, self.data = self.data[:1], self.data[1:]
        return piece

    def close(self) -> None:
        self.closed = True


def test_every_write_is_flushed_so_the_peer_reads_it_whole(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """After each sendall, what arrived inflates to exactly what was sent: nothing waits in
    the compressor for the next command (Z_SYNC_FLUSH)."""
    a, b = pair
    sender = DeflatingSocket(a)
    inflater = zlib.decompressobj(-15)
    for command in (b"a1 NOOP\r\n", b"a2 SELECT INBOX\r\n", b"x" * 3 + b"\r\n"):
        sender.sendall(command)
        received = b""
        while not received.endswith(b"\x00\x00\xff\xff"):  # the sync-flush marker
            received += b.recv(65536)
        assert inflater.decompress(received) == command
    assert sender.plain_bytes == sum(len(c) for c in (b"a1 NOOP\r\n", b"a2 SELECT INBOX\r\n",
                                                       b"xxx\r\n"))


def test_a_large_literal_goes_out_in_pieces_and_arrives_whole(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    body = mail(5 * 1024 * 1024 + 17)
    sender = DeflatingSocket(a)
    thread = threading.Thread(target=sender.sendall, args=(memoryview(body),))
    thread.start()
    reader = io.BufferedReader(InflatingReader(b.makefile("rb")))
    assert reader.read(len(body)) == body
    thread.join()
    assert sender.wire_bytes < len(body) / 2  # mail text compresses
    assert sender.plain_bytes == len(body)


def test_reads_in_any_pieces_give_the_same_bytes() -> None:
    """Compressed bytes arriving one at a time, read by lines and by sizes as imaplib does
    (a literal larger than the buffer, an output buffer of one byte)."""
    literal = mail(100_000, seed=2)
    plain = b"* 1 FETCH (UID 5 BODY[] {%d}\r\n" % len(literal) + literal + b")\r\na1 OK\r\n"
    reader = io.BufferedReader(InflatingReader(Trickle(deflate(plain))), 64)
    assert reader.readline() == b"* 1 FETCH (UID 5 BODY[] {100000}\r\n"
    assert reader.read(len(literal)) == literal
    assert reader.readline() == b")\r\n"
    assert reader.readline() == b"a1 OK\r\n"
    assert reader.read(1) == b""  # the source ended: EOF, not a hang

    raw = InflatingReader(Trickle(deflate(plain)))
    out = bytearray()
    one = bytearray(1)
    while raw.readinto(one):
        out += one
    assert bytes(out) == plain


def test_wrap_keeps_what_the_old_reader_held_and_closes_through() -> None:
    """Compressed bytes that came in the same packet as the COMPRESS OK are in imaplib's
    old buffered reader: the wrapped connection reads them first."""
    a, b = socket.socketpair()
    try:
        b.settimeout(5)
        a.sendall(b"a1 OK DEFLATE active\r\n" + deflate(b"* 3 EXISTS\r\n"))
        imap = SimpleNamespace(sock=b, file=b.makefile("rb"))
        assert imap.file.readline() == b"a1 OK DEFLATE active\r\n"
        wrap(imap)
        assert is_wrapped(imap)
        assert imap.file.readline() == b"* 3 EXISTS\r\n"
        imap.sock.sendall(b"a2 NOOP\r\n")
        assert zlib.decompressobj(-15).decompress(a.recv(100)) == b"a2 NOOP\r\n"
        imap.sock.settimeout(0.2)  # the real socket's, through the wrapper
        assert b.gettimeout() == 0.2
        with pytest.raises(TimeoutError):  # a stalled server still times out
            imap.file.readline()
        imap.file.close()
        imap.sock.close()
        assert b.fileno() == -1
    finally:
        a.close()
        b.close()


def test_the_server_closing_is_end_of_file(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    a.sendall(deflate(b"* BYE bye\r\n"))
    a.shutdown(socket.SHUT_WR)
    reader = io.BufferedReader(InflatingReader(b.makefile("rb")))
    assert reader.readline() == b"* BYE bye\r\n"
    assert reader.readline() == b""
