"""A TCP proxy on loopback that adds a fixed one-way delay, and optionally a bandwidth cap.

    python bench/proxy.py --delay-ms 20 --forward 127.0.0.1:1143 [--forward HOST:PORT ...]

For each ``--forward`` target it listens on a free port of ``--listen`` and prints one
line, ``LISTENING <port> [<port> ...]`` (in the order of the targets), then runs until
SIGTERM or SIGINT, when it prints the bytes it carried.

How a direction works: a reader takes chunks as they arrive, stamps each with
``arrival + delay`` and queues it; a writer sends each chunk when its time comes.  Chunks
are delayed independently (the delay is latency, not a per-chunk cost), order is kept,
and a 40 ms round trip stays 40 ms however much data is in flight.  With
``--bandwidth-kbps`` a token bucket meters the reader (serialisation at the sender, then
the propagation delay).  What may wait in one direction's queue is bounded
(``--window-kb``, default 4 MB: a large TCP window) so memory stays bounded and a fast
sender meets back-pressure as it would on a real path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import signal
import socket
import sys
from dataclasses import dataclass, field

READ_SIZE = 64 * 1024


@dataclass
class Stats:
    """Bytes carried, per direction, and connections accepted."""

    upstream: int = 0  # client → server
    downstream: int = 0  # server → client
    connections: int = 0


class TokenBucket:
    """Allows ``rate`` bytes a second on average, in bursts of at most ``burst`` bytes."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = asyncio.get_running_loop().time()

    async def take(self, count: int) -> None:
        """Wait until ``count`` bytes may go (the debt is paid by sleeping)."""
        now = asyncio.get_running_loop().time()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= count
        if self.tokens < 0:
            await asyncio.sleep(-self.tokens / self.rate)


@dataclass
class Link:
    """The shape of the simulated path, the same in both directions."""

    delay: float  # seconds, one way
    rate: float | None  # bytes per second, or None for no cap
    window: int  # bytes that may wait in one direction's queue
    stats: Stats = field(default_factory=Stats)


class Direction:
    """One direction of one proxied connection: a delaying, order-keeping pipe."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link, up: bool
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.link = link
        self.up = up
        self.queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self.queued = 0
        self.room = asyncio.Event()
        self.bucket = (
            TokenBucket(link.rate, max(16 * 1024, int(link.rate / 50))) if link.rate else None
        )

    async def pump_in(self) -> None:
        """Read chunks, meter them, stamp them with their due time, queue them."""
        loop = asyncio.get_running_loop()
        size = min(READ_SIZE, self.bucket.burst) if self.bucket else READ_SIZE
        while True:
            data = await self.reader.read(size)
            if self.bucket and data:
                await self.bucket.take(len(data))
            while data and self.queued > 0 and self.queued + len(data) > self.link.window:
                self.room.clear()
                await self.room.wait()
            self.queued += len(data)
            self.queue.put_nowait((loop.time() + self.link.delay, data))
            if not data:
                return

    async def pump_out(self) -> None:
        """Send each chunk when it is due; pass the end of stream on as a half-close."""
        loop = asyncio.get_running_loop()
        while True:
            due, data = await self.queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                return
            self.writer.write(data)
            await self.writer.drain()
            self.queued -= len(data)
            self.room.set()
            if self.up:
                self.link.stats.upstream += len(data)
            else:
                self.link.stats.downstream += len(data)


def _no_delay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _serve(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    target: tuple[str, int],
    link: Link,
) -> None:
    link.stats.connections += 1
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    for writer in (client_writer, server_writer):
        _no_delay(writer)
    up = Direction(client_reader, server_writer, link, up=True)
    down = Direction(server_reader, client_writer, link, up=False)
    tasks = [
        asyncio.create_task(coro)
        for coro in (up.pump_in(), up.pump_out(), down.pump_in(), down.pump_out())
    ]
    try:
        # Until both directions have ended, or either side fails (reset, broken pipe).
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError:
        pass  # the proxy is stopping: close quietly (asyncio logs a cancelled handler)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in (client_writer, server_writer):
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()


def _target(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


async def run_proxy(targets: list[tuple[str, int]], link: Link, listen: str) -> None:
    """Listen for every target, announce the ports, serve until SIGTERM/SIGINT."""
    servers = [
        await asyncio.start_server(functools.partial(_serve, target=t, link=link), listen, 0)
        for t in targets
    ]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    print("LISTENING " + " ".join(map(str, ports)), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    s = link.stats
    print(
        f"carried {s.upstream} bytes up, {s.downstream} bytes down, {s.connections} connections",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--forward",
        type=_target,
        action="append",
        required=True,
        metavar="HOST:PORT",
        help="a server to proxy (repeatable)",
    )
    parser.add_argument("--delay-ms", type=float, default=20.0, help="one-way delay (20)")
    parser.add_argument(
        "--bandwidth-kbps",
        type=float,
        default=None,
        help="cap each direction at this many kilobits a second",
    )
    parser.add_argument(
        "--window-kb",
        type=int,
        default=4096,
        help="bytes that may wait in one direction, in KB (4096)",
    )
    parser.add_argument("--listen", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args(argv)
    rate = args.bandwidth_kbps * 1000 / 8 if args.bandwidth_kbps else None
    link = Link(delay=args.delay_ms / 1000, rate=rate, window=args.window_kb * 1024)
    asyncio.run(run_proxy(args.forward, link, args.listen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
