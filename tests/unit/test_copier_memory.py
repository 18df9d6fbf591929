"""The copier lets go of a batch's bodies before it gives the batch's bytes back to the
memory budget: another pair may take those bytes at once, and the heap is trimmed from
there (see :class:`~imapcopy_tui.engine.budget.ByteBudget`).

Bytes objects cannot be weakly referenced, so the fake source hands out a fresh object
for every body it sends and the test counts the references to each: at every release,
a body that something besides the test still holds is a body the engine has not let go.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.budget import ByteBudget
from imapcopy_tui.engine.bulk import OutgoingMessage
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyResult
from imapcopy_tui.engine.wire import FetchedMessage
from imapcopy_tui.errors import ConnectionLostError, ServerError
from tests.fakes import FakeServer, FakeSession, Stored, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")
COUNT = 60  # in batches of 2, 4, 8 and then 10 messages (fetch_batch_count=10)


def _copy_of(raw: bytes) -> bytes:
    return bytes(bytearray(raw))  # a new object, whatever CPython shares for equal bytes


def _refcounts(bodies: Sequence[bytes]) -> list[int]:
    return [sys.getrefcount(body) for body in bodies]


# What _refcounts finds for a body nobody else holds: the list, the loop, the call.
_UNHELD = _refcounts([_copy_of(b"a body nobody holds")])[0]


class Bodies:
    """Every body the source sent (each a fresh object), and which ones the destination
    was offered."""

    def __init__(self) -> None:
        self._bodies: list[bytes] = []
        self._offered: list[bool] = []
        self._lock = threading.Lock()

    def sent(self, raw: bytes) -> bytes:
        body = _copy_of(raw)
        with self._lock:
            self._bodies.append(body)
            self._offered.append(False)
        return body

    def offered(self, raw: bytes) -> None:
        with self._lock:
            for index, body in enumerate(self._bodies):
                if body is raw:
                    self._offered[index] = True

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._bodies)

    def held(self, *, offered: bool = False) -> list[bytes]:
        """The bodies still referenced from outside this object (only those offered to
        the destination, if asked)."""
        with self._lock:
            counts = _refcounts(self._bodies)
            return [
                body
                for body, was_offered, count in zip(
                    self._bodies, self._offered, counts, strict=True
                )
                if count > _UNHELD and (was_offered or not offered)
            ]


def _holders(body: bytes) -> str:
    """What references ``body``, as far as the garbage collector sees (for the failure
    message); a dict of bytes and ints, which it does not track, goes unseen."""
    here = sys._getframe()
    try:
        kinds = {
            type(r).__name__
            for r in gc.get_referrers(body)
            if r is not here and not isinstance(r, list)  # this frame, and our lists
        }
    finally:
        del here  # else this frame refers to itself, and keeps ``body`` until collected
    return ", ".join(sorted(kinds)) or "an untracked container (a dict of bodies?)"


class WatchedBudget(ByteBudget):
    """A budget that checks, at each release, that the bodies still held are ones it
    still counts: none the destination was offered (one folder, one appender: their
    batches are done, or are the one being released), and no more bytes than it keeps
    taken after this release."""

    def __init__(self, bodies: Bodies) -> None:
        super().__init__(CopyOptions().memory_budget_bytes)
        self.bodies = bodies
        self.releases = 0
        self.faults: list[str] = []

    def release(self, taken: int) -> None:
        with self._changed:  # no acquire meanwhile: ``used`` and the bodies stay together
            self.releases += 1
            appended = self.bodies.held(offered=True)
            if appended:
                self.faults.append(
                    f"release {self.releases} ({taken} bytes): {len(appended)} bodies already "
                    f"offered to the destination still held by {_holders(appended[0])}"
                )
            held = self.bodies.held()
            held_bytes = sum(len(body) for body in held)
            if held_bytes > self.used - taken:
                self.faults.append(
                    f"release {self.releases} ({taken} bytes): {held_bytes} bytes of bodies "
                    f"held, {self.used - taken} still counted; the first by {_holders(held[0])}"
                )
            super().release(taken)


Hook = Callable[[Sequence[int], Sequence[str]], None]


class Source(FakeSession):
    """Sends each body as a fresh object, recorded in ``bodies``; no body unless asked.
    ``after_reading`` runs once the answer is read, and may raise (a connection lost with
    the bodies read but not handed over)."""

    def __init__(
        self, account: Account, server: FakeServer, bodies: Bodies, after_reading: Hook | None
    ) -> None:
        super().__init__(account, server)
        self.bodies = bodies
        self.after_reading = after_reading

    def fetch(self, uids: Sequence[int], items: Sequence[str]) -> dict[int, FetchedMessage]:
        answers = super().fetch(uids, items)
        for answer in answers.values():
            if answer.body is not None:
                answer.body = self.bodies.sent(answer.body) if "BODY.PEEK[]" in items else None
        if self.after_reading:
            self.after_reading(uids, items)
        return answers


class Destination(FakeSession):
    """Notes which bodies it was offered, and keeps copies, not the copier's objects."""

    def __init__(self, account: Account, server: FakeServer, bodies: Bodies) -> None:
        super().__init__(account, server)
        self.bodies = bodies

    def append_many(self, folder: str, messages: Sequence[OutgoingMessage]) -> None:
        for m in messages:
            self.bodies.offered(m.raw)
        super().append_many(folder, [replace(m, raw=_copy_of(m.raw)) for m in messages])

    def append(
        self, folder: str, raw: bytes, flags: Iterable[str], internal_date: datetime | None
    ) -> int | None:
        self.bodies.offered(raw)
        return super().append(folder, _copy_of(raw), flags, internal_date)


def copy(
    source: FakeServer,
    destination: FakeServer,
    connections: int,
    bodies: Bodies | None = None,
    after_reading: Hook | None = None,
) -> tuple[CopyResult, WatchedBudget]:
    if bodies is None:
        bodies = Bodies()
    budget = WatchedBudget(bodies)

    def connect(account: Account, **_: Any) -> FakeSession:
        if account.role == "source":
            return Source(account, source, bodies, after_reading)
        return Destination(account, destination, bodies)

    options = CopyOptions(
        send_report=False, backoff_seconds=0.0, connections=connections, fetch_batch_count=10
    )
    result = Copier(SRC, DST, MemoryLedger(), options=options, connect=connect,  # type: ignore[arg-type]
                    budget=budget).run()
    # The count is right: once the copy is over, nothing holds any body.
    assert bodies.held() == []
    return result, budget


def _source() -> FakeServer:
    # Bodies of different sizes, so that byte counts cannot match by chance.
    return FakeServer(
        folders={"INBOX": [Stored(message(n, "x" * (n * 37 % 500))) for n in range(1, COUNT + 1)]}
    )


@pytest.mark.parametrize("connections", [1, 3])
def test_bodies_are_let_go_before_their_bytes_are_released(connections: int) -> None:
    """Every batch's bodies are unreferenced when its bytes go back to the budget, with the
    folder's own fetcher alone and with other connections fetching ahead for it."""
    source = _source()
    destination = FakeServer()
    result, budget = copy(source, destination, connections)
    assert [m.raw for m in destination.folders["INBOX"]] == [m.raw for m in source.folders["INBOX"]]
    assert result.errors == []
    assert budget.faults == []
    assert budget.releases == 8 and budget.used == 0  # batches of 2, 4, 8, 10 x 4 and 6


def test_bodies_of_a_refused_batch_are_let_go_before_its_bytes_are_released() -> None:
    """A MULTIAPPEND refused for one message (then sent one by one): the batch's bodies,
    sent or not, are let go before its bytes go back."""
    source = _source()
    refused = source.folders["INBOX"][19].raw  # UID 20, in the fourth batch
    destination = FakeServer()

    def refuse(folder: str, raw: bytes) -> None:
        if raw == refused:
            raise ServerError("destination: the server answered: NO [OVERQUOTA] full")

    destination.on_append = refuse
    result, budget = copy(source, destination, connections=1)
    assert [e.uid for e in result.errors] == [20]
    assert [m.raw for m in destination.folders["INBOX"]] == [
        m.raw for m in source.folders["INBOX"] if m.raw != refused
    ]
    assert budget.faults == []
    assert budget.used == 0


def test_bodies_of_a_batch_cut_by_a_lost_connection_are_let_go_before_its_bytes_are_released(
) -> None:
    """The connection breaks during a batch's MULTIAPPEND: that batch's bytes, and those of
    the batch fetched ahead, go back with their bodies let go; the folder resumes."""
    source = _source()
    cut = source.folders["INBOX"][19].raw  # UID 20, in the fourth batch (UIDs 15 to 24)
    destination = FakeServer()
    bodies = Bodies()
    ahead: list[int] = []  # bodies sent when the connection broke

    def break_once(folder: str, raw: bytes) -> None:
        if raw == cut and not ahead:
            # Once the next batch (UIDs 25 to 34) is in, waiting to be appended.
            deadline = time.monotonic() + 5
            while bodies.count < 34 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.1)
            ahead.append(bodies.count)
            raise ConnectionLostError("destination: connection lost")

    destination.on_append = break_once
    result, budget = copy(source, destination, connections=1, bodies=bodies)
    assert ahead == [34] and result.errors == []
    assert [m.raw for m in destination.folders["INBOX"]] == [m.raw for m in source.folders["INBOX"]]
    assert budget.faults == []
    assert budget.used == 0


def test_bodies_read_by_a_fetch_cut_by_a_lost_connection_are_let_go_before_release() -> None:
    """The source connection breaks once a batch's answer is read: when that batch's bytes
    go back (the folder gives up, to resume after reconnecting), what was read is let go;
    the folder is then copied whole."""
    source = _source()
    destination = FakeServer()
    broke: list[Sequence[int]] = []

    def break_once(uids: Sequence[int], items: Sequence[str]) -> None:
        if "BODY.PEEK[]" in items and 25 in uids and not broke:  # the fifth batch
            broke.append(uids)
            raise ConnectionLostError("source: connection lost")

    result, budget = copy(source, destination, connections=1, after_reading=break_once)
    assert broke and result.errors == []
    assert [m.raw for m in destination.folders["INBOX"]] == [m.raw for m in source.folders["INBOX"]]
    assert budget.faults == []
    assert budget.used == 0
