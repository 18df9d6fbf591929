"""One folder's batches, fetched ahead by any free source connection, appended in order.

A folder is appended by one destination connection, in source UID order (the order a
client sorting by arrival shows).  Its fetches need not wait for each other: the folder's
own prefetch thread and, once every other folder is taken, the source connections of
pairs with nothing left to do claim its batches, lowest first, and hand the bodies back;
the appender takes them in order.  On a slow link a large folder then no longer waits
for one connection's round trips, and the destination side sees the same order.

Memory stays bounded by the job's :class:`ByteBudget`.  Deadlock is avoided by taking
each batch's bytes in batch order (``_order`` is held while reserving): a batch never
holds bytes while an earlier batch of the same folder waits for some, so a folder whose
appender waits holds none beyond what it is appending, and the bytes of other folders come
back as they are appended.  A claimant that fails gives its batch back with the bytes it
reserved, for another (in the end the folder's own prefetch thread) to fetch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Generic, Protocol, TypeVar

from imapcopy_tui.engine.budget import ByteBudget


class Sized(Protocol):
    """What the feed needs to know of a message: its size, for the budget."""

    @property
    def size(self) -> int: ...


M = TypeVar("M", bound=Sized)
B = TypeVar("B")  # what a fetch brings back


class FeedClosed(Exception):
    """The folder's appender has finished or given up: nothing more is wanted."""


class _Reclaim(Exception):
    """An earlier batch was given back while a later one waited for memory."""


class _State(Enum):
    WAITING = "waiting"  # nobody fetches it (yet, or again)
    FETCHING = "fetching"
    READY = "ready"
    TAKEN = "taken"


@dataclass(slots=True)
class _Slot(Generic[M, B]):
    messages: Sequence[M]
    state: _State = _State.WAITING
    reserved: int = 0  # bytes taken from the budget for it, kept across a give-back
    fetched: B | None = None


class FolderFeed(Generic[M, B]):
    """The batches of one folder between the fetchers and the one appender."""

    def __init__(
        self,
        folder: str,
        uidvalidity: int,
        batches: Sequence[Sequence[M]],
        budget: ByteBudget,
        ahead: int,
        discard: Callable[[B], None] = lambda fetched: None,
    ) -> None:
        """``discard`` lets go of what a fetched batch holds when nobody will take it (the
        folder failed or was stopped), before its bytes go back to the budget: the
        claimant that fetched it may still hold a reference to it."""
        self.folder = folder
        self.uidvalidity = uidvalidity
        self._budget = budget
        self._discard = discard
        self._ahead = max(1, ahead)  # batches fetched beyond the one being appended
        self._slots: list[_Slot[M, B]] = [_Slot(batch) for batch in batches]
        self._next_take = 0
        self._closed = False
        self._failure: BaseException | None = None
        self._changed = threading.Condition()
        self._order = threading.Lock()  # held while reserving: bytes go in batch order

    def __len__(self) -> int:
        return len(self._slots)

    @property
    def unclaimed(self) -> int:
        """Batches nobody is fetching or has fetched."""
        with self._changed:
            return sum(slot.state is _State.WAITING for slot in self._slots)

    def claim(
        self, check: Callable[[], None], *, last: bool = False
    ) -> tuple[int, Sequence[M]] | None:
        """The lowest batch nobody fetches, with its bytes reserved; None when none is left.

        Waits while that batch is more than ``ahead`` beyond the one being appended.  The
        folder's own fetcher claims with ``last``: it also waits while others fetch, since
        a batch they fail to fetch comes back and must not be left to nobody.  ``check``
        runs while waiting and may raise (cancellation).
        """
        with self._order:
            while True:
                with self._changed:
                    index = self._wait_for_claimable(check, last)
                    if index is None:
                        return None
                    slot = self._slots[index]
                    slot.state = _State.FETCHING
                    if slot.reserved:
                        return index, slot.messages
                try:
                    reserved = self._budget.acquire(
                        sum(m.size for m in slot.messages),
                        partial(self._check_reserving, check, index),
                    )
                except BaseException as exc:
                    with self._changed:
                        slot.state = _State.WAITING
                        self._changed.notify_all()
                    if isinstance(exc, _Reclaim):
                        continue  # an earlier batch came back: it goes first
                    if isinstance(exc, FeedClosed):
                        return None
                    raise
                with self._changed:
                    slot.reserved = reserved
                return index, slot.messages

    def deliver(self, index: int, fetched: B) -> None:
        """The bodies of a claimed batch, for the appender."""
        self._hand_back(index, _State.READY, fetched)

    def give_back(self, index: int) -> None:
        """A claimant could not fetch the batch: another will, with the bytes it reserved."""
        self._hand_back(index, _State.WAITING, None)

    def _hand_back(self, index: int, state: _State, fetched: B | None) -> None:
        with self._changed:
            slot = self._slots[index]
            if self._closed:  # nobody will take it: its bytes go back now
                if fetched is not None:
                    self._discard(fetched)
                self._budget.release(slot.reserved)
                slot.reserved = 0
                return
            slot.fetched = fetched
            slot.state = state
            self._changed.notify_all()

    def fail(self, error: BaseException) -> None:
        """The folder's own fetcher failed: the appender raises ``error`` when it waits."""
        with self._changed:
            if self._failure is None:
                self._failure = error
            self._changed.notify_all()

    def take(self, index: int, check: Callable[[], None]) -> tuple[B, int]:
        """Batch ``index`` once fetched, and the bytes to release after appending it."""
        with self._changed:
            slot = self._slots[index]
            while slot.state is not _State.READY:
                if self._failure is not None:
                    raise self._failure
                check()
                self._changed.wait(0.2)
            fetched, reserved = slot.fetched, slot.reserved
            assert fetched is not None
            slot.state, slot.fetched, slot.reserved = _State.TAKEN, None, 0
            self._next_take = index + 1
            self._changed.notify_all()
            return fetched, reserved

    def close(self) -> None:
        """Nothing more is wanted: give back the bytes of every batch fetched or reserved
        and not taken; claimants still fetching give theirs back when they deliver."""
        with self._changed:
            self._closed = True
            for slot in self._slots:
                if slot.state in (_State.READY, _State.WAITING) and slot.reserved:
                    if slot.fetched is not None:
                        self._discard(slot.fetched)
                        slot.fetched = None
                    self._budget.release(slot.reserved)
                    slot.reserved = 0
            self._changed.notify_all()

    def _wait_for_claimable(self, check: Callable[[], None], last: bool) -> int | None:
        """The batch to claim next (``_changed`` held), once it is within the window."""
        while True:
            check()
            if self._closed:
                return None
            index = self._first_waiting()
            if index is None:
                if last and any(s.state is _State.FETCHING for s in self._slots):
                    self._changed.wait(0.2)
                    continue
                return None
            if index < self._next_take + self._ahead:
                return index
            self._changed.wait(0.2)

    def _check_reserving(self, check: Callable[[], None], index: int) -> None:
        """While waiting for the bytes of batch ``index``: stop if the feed closed, or if
        an earlier batch was given back (it holds its bytes and must be fetched first,
        else the appender could wait for it while this claimant waits for memory)."""
        self._check_open(check)
        with self._changed:
            if any(s.state is _State.WAITING for s in self._slots[self._next_take : index]):
                raise _Reclaim()

    def _first_waiting(self) -> int | None:
        for index in range(self._next_take, len(self._slots)):
            if self._slots[index].state is _State.WAITING:
                return index
        return None

    def _check_open(self, check: Callable[[], None]) -> None:
        check()
        if self._closed:
            raise FeedClosed(self.folder)
