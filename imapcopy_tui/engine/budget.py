"""A bound on the bytes of mail held in memory by all connection pairs together.

Each batch of bodies takes its size from the budget before it is fetched and gives it back
once appended.  Waiters are served in order, so a message bigger than the whole budget
(it takes all of it) is not starved by a stream of small batches.

The budget counts the bytes Python holds; what the C allocator keeps after Python frees
them is the other half of the process's memory, see :class:`HeapKeeper`.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

# glibc's mallopt parameter (malloc.h) and the value it starts with.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024
TRIM_EVERY = 4 * 1024 * 1024  # bytes given back to the budget between two trims
GC_THRESHOLD = 10_000  # allocations between two young-generation collections (Python: 700)


class Allocator(Protocol):
    """The two calls of glibc's allocator that :class:`HeapKeeper` makes."""

    def mallopt(self, param: int, value: int) -> int: ...

    def malloc_trim(self, pad: int) -> int: ...


class HeapKeeper:
    """Gives the memory of freed message buffers back to the system (glibc only).

    Without it, peak memory grew with the length of a job however tight the budget
    (99 MB after 2,000 messages, 133 MB after 10,000, in the benchmark), for two reasons:

    * glibc raises its mmap threshold to the largest block freed so far (up to 32 MB):
      after one 20 MB message, every batch below that size is carved out of the heap
      arenas instead of a mapping of its own that is unmapped when freed;
    * the arenas of the eight copying threads keep the pages of freed bodies that are
      not at their very top, so each arena's resident size creeps up to its worst moment.

    So the threshold is pinned at its initial value (large blocks keep their own
    mappings), and the free pages inside the arenas are handed back (``malloc_trim``)
    every :data:`TRIM_EVERY` bytes of mail released (in practice once per batch, about
    2.5 ms each: 0.2 s of CPU for 10,000 messages, lost in the noise of the copy time).
    Peak memory then stays near the budget plus the program (about 80 MB for 2,000
    messages, 83 MB for 10,000).  Elsewhere (musl, macOS, Windows) this does nothing.
    """

    def __init__(self, allocator: Allocator | None = None) -> None:
        self._libc = allocator if allocator is not None else _glibc()
        if self._libc is not None:
            # Process-wide and idempotent; the TUI may run several jobs in one process.
            self._libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        self._released = 0
        self._lock = threading.Lock()

    def released(self, size: int) -> None:
        """``size`` bytes of mail were freed: trim the heap once enough have been."""
        if self._libc is None:
            return
        with self._lock:
            self._released += size
            if self._released < TRIM_EVERY:
                return
            self._released = 0
        self._libc.malloc_trim(0)


def quiet_garbage_collector() -> None:
    """Make Python's cycle collector cheap for a process that is about to copy mail.

    A copy allocates many small containers (responses, tuples, records) and frees them at
    once, with almost no reference cycles; yet each collection walks every object alive,
    the whole program included.  That was a tenth of the process's CPU in the benchmark.
    So the objects of start-up (modules, classes) are set aside for good (``gc.freeze``)
    and collections run ten times less often.  Cycles are still collected.  Call it from
    the entry point of a process that runs copies, once its modules are imported.
    """
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 50)


def _glibc() -> Allocator | None:
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
    except (ValueError, OSError, AttributeError):  # not glibc, or no confstr at all
        return None
    import ctypes  # here: it costs start-up time, and only glibc needs it

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    except (OSError, AttributeError):
        return None
    found: Allocator = libc
    return found


class ByteBudget:
    """Blocks ``acquire`` until the bytes fit (or the request is first and alone).

    Callers drop their references to the bodies before ``release``: another pair may
    take the bytes at once, and the heap is trimmed from there.
    """

    def __init__(self, limit: int, heap: HeapKeeper | None = None) -> None:
        self.limit = limit
        self.used = 0
        self._heap = heap
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
        if self._heap is not None:
            self._heap.released(taken)  # outside the lock: the others need not wait
