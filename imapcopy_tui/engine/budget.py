"""A bound on the bytes of mail held in memory by all connection pairs together.

Each batch of bodies takes its size from the budget before it is fetched and gives it back
once appended.  Waiters are served in order, so a message bigger than the whole budget
(it takes all of it) is not starved by a stream of small batches.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable


class ByteBudget:
    """Blocks ``acquire`` until the bytes fit (or the request is first and alone)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    def acquire(self, size: int, check: Callable[[], None] = lambda: None) -> int:
        """Take ``size`` bytes (at most the whole budget); return what was taken.

        ``check`` runs while waiting and may raise (cancellation).
        """
        wanted = min(size, self.limit)
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or self.used + wanted > self.limit:
                    self._changed.wait(0.2)
                    check()
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()
            self.used += wanted
        return wanted

    def release(self, taken: int) -> None:
        with self._changed:
            self.used -= taken
            self._changed.notify_all()
