"""FolderFeed: batches claimed lowest first, taken in order, memory given back, no deadlock."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import pytest

from imapcopy_tui.engine.budget import ByteBudget
from imapcopy_tui.engine.feed import FolderFeed


@dataclass(frozen=True)
class Msg:
    uid: int
    size: int


def batches(count: int, size: int = 10, per_batch: int = 2) -> list[list[Msg]]:
    return [[Msg(b * per_batch + i, size) for i in range(per_batch)] for b in range(count)]


def never() -> None:
    return None


def make(count: int, budget: ByteBudget, ahead: int = 2) -> FolderFeed[Msg, str]:
    return FolderFeed("INBOX", 7, batches(count), budget, ahead)


def test_claims_go_lowest_first_within_the_window_and_reserve_bytes() -> None:
    budget = ByteBudget(1000)
    feed = make(5, budget, ahead=2)
    first, second = feed.claim(never), feed.claim(never)
    assert first is not None and second is not None
    assert (first[0], second[0]) == (0, 1)
    assert budget.used == 40
    # Batch 2 is beyond the window (nothing taken yet): a claim waits for the appender.
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(feed.claim(never)))
    waiter.start()
    time.sleep(0.3)
    assert got == []
    feed.deliver(0, "zero")
    assert feed.take(0, never) == ("zero", 20)
    waiter.join(2)
    assert got and got[0] is not None and got[0][0] == 2  # type: ignore[index]


def test_a_batch_given_back_keeps_its_bytes_and_is_claimed_again_first() -> None:
    budget = ByteBudget(1000)
    feed = make(3, budget, ahead=3)
    assert feed.claim(never) is not None
    assert feed.claim(never) is not None
    feed.give_back(0)
    assert budget.used == 40  # still reserved for whoever fetches it
    again = feed.claim(never)
    assert again is not None and again[0] == 0
    assert budget.used == 40  # not reserved twice


def test_the_appender_takes_in_order_whatever_order_batches_arrive() -> None:
    budget = ByteBudget(1000)
    feed = make(3, budget, ahead=3)
    for _ in range(3):
        feed.claim(never)
    feed.deliver(2, "two")
    feed.deliver(1, "one")
    result: list[str] = []
    taker = threading.Thread(target=lambda: result.extend(feed.take(i, never)[0] for i in range(3)))
    taker.start()
    time.sleep(0.2)
    assert result == []  # waits for batch 0
    feed.deliver(0, "zero")
    taker.join(2)
    assert result == ["zero", "one", "two"]


def test_closing_gives_back_every_byte_fetched_ahead_or_still_being_fetched() -> None:
    budget = ByteBudget(1000)
    feed = make(4, budget, ahead=4)
    for _ in range(4):
        feed.claim(never)
    feed.deliver(1, "one")
    feed.give_back(2)
    feed.close()
    assert budget.used == 20 + 20  # batches 0 and 3 are still with their fetchers
    feed.deliver(0, "late")  # a fetcher finishing after the close
    feed.give_back(3)
    assert budget.used == 0
    assert feed.claim(never) is None


class EmptiedFirst(ByteBudget):
    """Notes, at each release, whether the batch being given up was emptied first."""

    def __init__(self) -> None:
        super().__init__(1000)
        self.watched: list[str] = []
        self.seen: list[tuple[int, bool]] = []

    def release(self, taken: int) -> None:
        self.seen.append((taken, not self.watched))
        super().release(taken)


def test_a_batch_nobody_will_take_is_discarded_before_its_bytes_go_back() -> None:
    """Closing with a batch fetched ahead, and a fetcher delivering after the close: each
    batch is discarded (its bodies let go) before its bytes are released, although its
    fetcher still holds it."""
    budget = EmptiedFirst()
    feed: FolderFeed[Msg, list[str]] = FolderFeed(
        "INBOX", 7, batches(2), budget, ahead=2, discard=list.clear
    )
    feed.claim(never)
    feed.claim(never)
    ahead, late = ["body 2", "body 3"], ["body 0", "body 1"]
    feed.deliver(1, ahead)
    budget.watched = ahead
    feed.close()
    budget.watched = late
    feed.deliver(0, late)
    assert budget.seen == [(20, True), (20, True)]
    assert budget.used == 0 and ahead == late == []


def test_the_folder_fetchers_failure_reaches_the_appender() -> None:
    feed = make(2, ByteBudget(1000))
    feed.claim(never)
    feed.give_back(0)
    feed.fail(ConnectionError("source lost"))
    with pytest.raises(ConnectionError):
        feed.take(0, never)


def test_cancellation_stops_a_waiting_claim_and_leaves_nothing_reserved() -> None:
    budget = ByteBudget(30)  # room for one batch of 20
    other = make(1, budget)
    assert other.claim(never) is not None  # holds 20 of 30
    feed = make(2, budget)
    stop = threading.Event()

    def check() -> None:
        if stop.is_set():
            raise KeyboardInterrupt

    errors: list[BaseException] = []

    def claim() -> None:
        try:
            feed.claim(check)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    waiter = threading.Thread(target=claim)
    waiter.start()
    time.sleep(0.3)
    stop.set()
    waiter.join(2)
    assert errors and isinstance(errors[0], KeyboardInterrupt)
    assert budget.used == 20
    assert feed.unclaimed == 2


def test_many_fetchers_two_folders_a_tight_budget_and_failures_finish_in_order() -> None:
    """Helpers fail at random and give batches back; each folder's appender still gets
    every batch once, in order (the folder's own fetcher picks up what helpers dropped),
    and every byte comes back: no deadlock, no leak."""
    budget = ByteBudget(60)  # three batches of 20 across both folders
    feeds = [FolderFeed(f"F{n}", 1, batches(25), budget, ahead=3) for n in range(2)]
    rng = random.Random(5)
    lock = threading.Lock()

    def fetcher(feed: FolderFeed[Msg, str], own: bool) -> None:
        """The folder's own fetcher never fails; a helper that fails gives its batch back
        and stops, as a helping pair does."""
        while (claimed := feed.claim(never, last=own)) is not None:
            index, batch = claimed
            time.sleep(rng.random() / 500)
            with lock:
                fails = not own and rng.random() < 0.2
            if fails:
                feed.give_back(index)
                return
            feed.deliver(index, ",".join(str(m.uid) for m in batch))

    taken: dict[str, list[str]] = {f.folder: [] for f in feeds}

    def appender(feed: FolderFeed[Msg, str]) -> None:
        for index in range(len(feed)):
            body, reserved = feed.take(index, never)
            taken[feed.folder].append(body)
            time.sleep(rng.random() / 1000)
            budget.release(reserved)
        feed.close()

    threads = [threading.Thread(target=appender, args=(f,)) for f in feeds]
    threads += [threading.Thread(target=fetcher, args=(f, n == 0)) for f in feeds for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not any(t.is_alive() for t in threads), "deadlock"
    want = [",".join(str(m.uid) for m in batch) for batch in batches(25)]
    assert taken == {"F0": want, "F1": want}
    assert budget.used == 0
