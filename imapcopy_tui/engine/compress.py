"""COMPRESS=DEFLATE (RFC 4978): an imaplib connection wrapped in raw DEFLATE both ways.

Used by :mod:`session` only.  From the tagged OK of ``COMPRESS DEFLATE`` on, every byte
either way is raw DEFLATE (zlib ``wbits=-15``).  The wrapping sits under imaplib's
``send``/``readline``/``read``, so everything above it is unchanged: imaplib and
IMAPClient, the gateway's pipelined commands and streamed MULTIAPPEND, the FETCH reader,
and the protocol trace (which hooks those three methods and so still sees plain IMAP).
It sits above TLS: the compressed bytes go through the TLS socket.

* Writes: ``imap.sock`` becomes a :class:`DeflatingSocket`, whose ``sendall`` compresses
  and ends every write with ``Z_SYNC_FLUSH``: a command never waits in the compressor for
  more bytes that will not come.  Everything else (``settimeout``, ``shutdown``...) goes to
  the real socket.
* Reads: ``imap.file`` becomes a buffered reader over an :class:`InflatingReader`, which
  takes its compressed bytes from the old ``imap.file``.  That old reader may already hold
  bytes the server sent right after its OK (compressed ones): reading through it loses
  none.  It reads from the socket, so a stalled server still times out as before.
"""

from __future__ import annotations

import io
import socket
import ssl
import zlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from typing_extensions import Buffer

_WBITS = -15  # raw DEFLATE: no zlib header or checksum (RFC 4978 section 4)
# zlib's level 1: several times the speed of the default level for most of its ratio on
# mail text; compression is on only over a slow link, where the bytes saved matter and the
# CPU must not become the limit.
_LEVEL = 1
_READ_CHUNK = 64 * 1024  # compressed bytes asked of the socket at a time
_WRITE_CHUNK = 1024 * 1024  # plain bytes compressed at a time (bounds the extra memory)
_BUFFER = 64 * 1024  # the plain-text buffer imaplib's readline/read work from


class _Source(Protocol):
    def read1(self, size: int = ..., /) -> bytes: ...

    def close(self) -> None: ...


class InflatingReader(io.RawIOBase):
    """The plain bytes of a raw DEFLATE stream read from ``source`` (a buffered reader).

    An empty read from ``source`` is the end of the connection, passed on as EOF.
    """

    def __init__(self, source: _Source) -> None:
        super().__init__()
        self._source = source
        self._inflater = zlib.decompressobj(_WBITS)
        self._tail = b""  # compressed input not yet inflated (the output had no room)
        self._more = False  # the last call filled the output: zlib may hold more

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        while True:
            if self._tail or self._more:
                data, self._tail = self._tail, b""
            else:
                data = self._source.read1(_READ_CHUNK)
                if not data:
                    return 0  # the server closed the connection
            out = self._inflater.decompress(data, len(view))
            self._tail = self._inflater.unconsumed_tail
            self._more = len(out) == len(view)
            if out:
                view[: len(out)] = out
                return len(out)
            # Nothing yet (a sync-flush marker alone, or half a block): read on.

    def close(self) -> None:
        if not self.closed:
            try:
                self._source.close()
            finally:
                super().close()


class DeflatingSocket:
    """A socket whose ``sendall`` sends raw DEFLATE, flushed (``Z_SYNC_FLUSH``) at the end
    of each call; every other attribute is the wrapped socket's."""

    def __init__(self, sock: socket.socket | ssl.SSLSocket) -> None:
        self.wrapped = sock
        self._deflater = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS)
        self.plain_bytes = 0  # what was handed to sendall (for a ratio in tests and traces)
        self.wire_bytes = 0  # what went out

    def sendall(self, data: Buffer) -> None:
        view = memoryview(data).cast("B")
        self.plain_bytes += len(view)
        # A large literal is compressed piece by piece: its compressed form is never held
        # whole next to it.
        for start in range(0, len(view), _WRITE_CHUNK):
            out = self._deflater.compress(view[start : start + _WRITE_CHUNK])
            if start + _WRITE_CHUNK >= len(view):
                out += self._deflater.flush(zlib.Z_SYNC_FLUSH)
            if out:
                self.wrapped.sendall(out)
                self.wire_bytes += len(out)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def wrap(imap: Any) -> None:
    """Compress ``imap`` (an ``imaplib.IMAP4``) from now on: call right after the tagged OK
    of ``COMPRESS DEFLATE``, before anything else is sent or read."""
    imap.sock = DeflatingSocket(imap.sock)
    plain = io.BufferedReader(InflatingReader(imap.file), _BUFFER)
    # Python 3.14 made IMAP4.file a read-only property over ``_file``.
    if isinstance(getattr(type(imap), "file", None), property):
        imap._file = plain
    else:
        imap.file = plain


def is_wrapped(imap: Any) -> bool:
    return isinstance(imap.sock, DeflatingSocket)


def raw_socket(imap: Any) -> socket.socket:
    """The socket under ``imap`` (an ``imaplib.IMAP4``), compressed or not: the TLS socket
    itself when TLS is on (an ``ssl.SSLSocket`` is a ``socket.socket``)."""
    sock = imap.sock
    return sock.wrapped if isinstance(sock, DeflatingSocket) else sock
