"""Slowing down when a server asks: how long to wait, and how fast to go on afterwards.

A server that answers ``[THROTTLED]``, ``[UNAVAILABLE]`` or "Suggested Backoff Time: N
milliseconds" has done nothing: the command is sent again after a wait.  The wait is the
server's suggestion when it gives one, else a doubling back-off.  Afterwards the side goes
on more slowly (a pause before each command), and speeds up again as commands succeed:
sending at full speed straight after a throttling answer only earns the next one.

One :class:`Pacer` per side of the job, shared by every connection pair.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from imapcopy_tui.errors import ServerBusyError

MAX_SUGGESTED_WAIT = 15 * 60.0  # a suggestion beyond this is taken as this
MAX_PAUSE = 10.0  # the slowest pace: one command every ten seconds
_SPEED_UP = 0.8  # each success shortens the pause by a fifth
_SLOW_DOWN = 2.0


@dataclass
class PacerStats:
    busy_answers: int = 0
    waited_seconds: float = 0.0
    last_reason: str = ""


class Pacer:
    """The pace of one side (source or destination) of a job, shared by its pairs.

    How many times one command was answered "busy" is the caller's to count (other
    pairs' successes say nothing about this command); the pacer turns a count into a wait,
    keeps the pause between commands, and the totals for the report.
    """

    def __init__(self, first_wait: float, max_wait: float) -> None:
        self._first_wait = first_wait
        self._max_wait = max_wait
        self._lock = threading.Lock()
        self._pause = 0.0  # before each command, while recovering from throttling
        self.stats = PacerStats()

    @property
    def pause(self) -> float:
        with self._lock:
            return self._pause

    def busy(self, error: ServerBusyError, tries: int) -> float:
        """Note the ``tries``-th busy answer to one command; return how long to wait
        before sending it again."""
        with self._lock:
            self._pause = min(MAX_PAUSE, max(self._first_wait / 4, self._pause * _SLOW_DOWN))
            if error.retry_after is not None:
                wait = min(error.retry_after, MAX_SUGGESTED_WAIT)
            else:
                wait = min(self._first_wait * 2 ** (tries - 1), self._max_wait)
            self.stats.busy_answers += 1
            self.stats.waited_seconds += wait
            self.stats.last_reason = str(error)
            return wait

    def succeeded(self) -> None:
        with self._lock:
            self._pause = 0.0 if self._pause < 0.02 else self._pause * _SPEED_UP


class BatchSizer:
    """How many messages (and bytes) go in one FETCH / MULTIAPPEND, adapted to the link.

    A connection lost in the middle of a batch loses the whole batch, so on a link that
    drops every few megabytes, batches of 8 MB never get through.  Each lost connection
    halves the batch (down to one message); every ``_GROW_AFTER`` batches that get
    through double it again, up to the configured size.
    """

    _GROW_AFTER = 8
    _MIN_BYTES = 256 * 1024

    def __init__(self, count: int, size: int) -> None:
        self._max_count, self._max_bytes = count, size
        self.count, self.bytes = count, size
        self._lock = threading.Lock()
        self._through = 0

    def shrink(self) -> None:
        with self._lock:
            self.count = max(1, self.count // 2)
            self.bytes = max(self._MIN_BYTES, self.bytes // 2)
            self._through = 0

    def got_through(self) -> None:
        with self._lock:
            self._through += 1
            if self._through >= self._GROW_AFTER:
                self._through = 0
                self.count = min(self._max_count, self.count * 2)
                self.bytes = min(self._max_bytes, self.bytes * 2)


class RateLimit:
    """At most ``bytes_per_second`` sent, on average, by every pair together.

    imapsync's ``--maxbytespersecond``: for providers that count upload volume (Gmail) or
    a link the copy must not fill.  The first second's worth goes at once.
    """

    def __init__(self, bytes_per_second: int, clock: Callable[[], float] = time.monotonic):
        self.rate = bytes_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next_free = clock()  # when the bytes granted so far will have "drained"

    def delay_for(self, size: int) -> float:
        """Book ``size`` bytes; return how long to wait before sending them."""
        with self._lock:
            now = self._clock()
            start = max(self._next_free, now)  # an idle link earns no credit beyond a second
            self._next_free = start + size / self.rate
            return max(0.0, self._next_free - now - 1.0)
