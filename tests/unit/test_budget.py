"""The memory budget shared by the connection pairs."""

from __future__ import annotations

import threading
import time

import pytest

from imapcopy_tui.engine.budget import ByteBudget


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
    time.sleep(0.1)
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
