"""The memory budget shared by the connection pairs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from imapcopy_tui.engine.budget import MMAP_THRESHOLD, TRIM_EVERY, ByteBudget, HeapKeeper


def test_waits_until_bytes_are_released() -> None:
    """A request that does not fit waits for a release, then gets its bytes."""
    budget = ByteBudget(100)
    first = budget.acquire(80)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(budget.acquire(50)))
    waiter.start()
    time.sleep(0.3)
    assert got == []
    budget.release(first)
    waiter.join(2)
    assert got == [50] and budget.used == 50


def test_oversized_request_takes_the_whole_budget_in_turn() -> None:
    """A request bigger than the budget gets all of it once it is first in line, ahead of
    smaller requests that came later."""
    budget = ByteBudget(100)
    held = budget.acquire(10)
    order: list[str] = []
    big = threading.Thread(target=lambda: order.append(f"big {budget.acquire(500)}"))
    big.start()
    # The big one must be in line before the small one asks: after a fixed 0.1 s it may
    # not be on a busy machine, and the small one, first in line, would fit and go.
    deadline = time.monotonic() + 10
    while not budget._waiting and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(budget._waiting) == 1
    small = threading.Thread(target=lambda: order.append(f"small {budget.acquire(5)}"))
    small.start()
    time.sleep(0.3)
    assert order == []  # the small one does not overtake the big one
    budget.release(held)
    big.join(2)
    assert order == ["big 100"]
    budget.release(100)
    small.join(2)
    assert order == ["big 100", "small 5"]


def test_waiting_can_be_cancelled() -> None:
    """The check callback stops a wait (cancellation) and leaves the budget clean."""
    budget = ByteBudget(10)
    budget.acquire(10)

    def cancelled() -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        budget.acquire(5, cancelled)
    budget.release(10)
    assert budget.acquire(10) == 10


# --- what the C allocator keeps (glibc) ------------------------------------------------

# Each check runs in a fresh interpreter: the allocator's state (its mmap threshold, the
# holes in its heap) is process-wide and would carry over from other tests.
_RSS = """
import re, sys
from imapcopy_tui.engine.budget import TRIM_EVERY, HeapKeeper

def rss_mb():
    status = open("/proc/self/status").read()
    return int(re.search(r"VmRSS:\\s+(\\d+)", status).group(1)) / 1024

keeper = HeapKeeper() if sys.argv[1] == "keeper" else None
"""

# After one big message is freed, forty 1 MB bodies come and go, each next to a block that
# stays (a parsed header, say): glibc's default would carve them out of the heap and
# keep their pages.
_AFTER_A_BIG_MESSAGE = _RSS + """
big = b"x" * (20 * 2**20)  # written, not calloc's untouched pages
del big
before = rss_mb()
bodies, survivors = [], []
for n in range(40):
    bodies.append(b"x" * (2**20 - n))
    survivors.append(b"%04d" % n * 5000)  # 20 KB: a fresh block, right after the body
del bodies
print(rss_mb() - before)
"""

# Bodies under the mmap threshold (most mail) live in the heap whatever the threshold;
# the pages of freed ones between survivors stay resident until trimmed.
_SMALL_BODIES = _RSS + """
before = rss_mb()
bodies, survivors = [], []
for n in range(400):
    bodies.append(b"x" * (100_000 + n))
    survivors.append(b"%04d" % n * 250)  # 1 KB: malloc, not pymalloc
del bodies
kept = rss_mb() - before
if keeper is not None:
    keeper.released(TRIM_EVERY)
print(kept, rss_mb() - before)
"""


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError, AttributeError):
        return False


needs_glibc = pytest.mark.skipif(
    not (_glibc() and Path("/proc/self/status").exists()), reason="glibc's allocator on Linux"
)


def _run(script: str, mode: str) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", script, mode], capture_output=True, text=True, check=True
    )
    return [float(x) for x in done.stdout.split()]


@needs_glibc
def test_bodies_freed_after_a_big_message_leave_memory() -> None:
    """Without the keeper, 40 MB of freed 1 MB bodies stay resident after one 20 MB
    message (glibc raised its mmap threshold); with it, they are unmapped when freed."""
    (without,) = _run(_AFTER_A_BIG_MESSAGE, "plain")
    (with_keeper,) = _run(_AFTER_A_BIG_MESSAGE, "keeper")
    assert without > 30  # the allocator behaves as the keeper assumes
    assert with_keeper < 8


@needs_glibc
def test_freed_small_bodies_are_trimmed_once_enough_mail_is_released() -> None:
    """40 MB of freed 100 KB bodies between survivors stay resident until the budget has
    been given back TRIM_EVERY bytes; then the keeper hands their pages back."""
    kept, after = _run(_SMALL_BODIES, "keeper")
    assert kept > 30
    assert after < 8


def test_the_budget_tells_the_keeper_what_was_released() -> None:
    """Each release reaches the keeper, which trims only every TRIM_EVERY bytes."""
    calls: list[tuple[str, int]] = []

    class Libc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append(("mallopt", value))
            return 1

        def malloc_trim(self, pad: int) -> int:
            calls.append(("malloc_trim", pad))
            return 1

    budget = ByteBudget(TRIM_EVERY, HeapKeeper(Libc()))
    assert calls == [("mallopt", MMAP_THRESHOLD)]
    budget.release(budget.acquire(TRIM_EVERY // 2))
    assert calls == [("mallopt", MMAP_THRESHOLD)]
    budget.release(budget.acquire(TRIM_EVERY // 2))
    assert calls == [("mallopt", MMAP_THRESHOLD), ("malloc_trim", 0)] and budget.used == 0


def test_quiet_garbage_collector_still_collects_cycles() -> None:
    """After the tuning (in a fresh interpreter: it is process-wide), start-up objects are
    frozen and young collections are rarer, but a reference cycle is still freed."""
    code = """
import gc, weakref
from imapcopy_tui.engine.budget import GC_THRESHOLD, quiet_garbage_collector
quiet_garbage_collector()
assert gc.get_threshold()[0] == GC_THRESHOLD > 700, gc.get_threshold()
assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
class Node: pass
a, b = Node(), Node()
a.other, b.other = b, a
gone = weakref.ref(a)
del a, b
kept = [[] for _ in range(2 * GC_THRESHOLD)]  # allocations alone trigger a collection
print(gone() is None)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_the_command_loads_without_the_collector_and_runs_with_it() -> None:
    """``imapcopy`` (the entry point) imports the program with the cycle collector off, and
    turns it back on before the command runs."""
    code = """
import gc, sys
import imapcopy_tui.cli
seen = []
def run(argv=None):
    seen.append(gc.isenabled())
    return 0
imapcopy_tui.cli.main = run
real_import = __builtins__.__import__
def watching(name, *args, **kwargs):
    if name == "imapcopy_tui.cli":
        seen.append(gc.isenabled())
    return real_import(name, *args, **kwargs)
__builtins__.__import__ = watching
from imapcopy_tui.__main__ import main
print(main([]), seen)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 [False, True]"
