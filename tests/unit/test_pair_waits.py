"""A pair with nothing left to take waits for news from the others, not for a timer.

With two pairs and two folders, the pair that ends first has nothing to take while the
other opens its folder: it waits to see whether that folder will want help.  The job ends
when that folder is settled, not at the waiting pair's next look (it used to sleep 50 ms
between looks, and the job's end waited for it).  Here the looks are 30 s apart: only
being told can end the wait in time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyListener
from imapcopy_tui.engine.session import FolderState
from tests.fakes import FakeServer, FakeSession, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")
OPENING_SECONDS = 0.5
RECHECK_SECONDS = 30.0


class SlowToOpen(FakeSession):
    """A source session that takes a while to open the folder called ``Slow``."""

    def examine_uids(self, name: str) -> tuple[FolderState, list[int]]:
        if name == "Slow":
            threading.Event().wait(OPENING_SECONDS)  # not time.sleep: that one is watched
        return super().examine_uids(name)


def slow_connector(source: FakeServer, destination: FakeServer) -> Callable[..., FakeSession]:
    inner = connector(source, destination)

    def connect(account: Account, **kwargs: object) -> FakeSession:
        if account.role == "source":
            return SlowToOpen(account, source)
        return inner(account, **kwargs)

    return connect


def test_the_job_ends_when_the_last_folder_settles_not_at_a_waiting_pairs_next_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = FakeServer(
        folders={
            "INBOX": [Stored(message(n, "inbox")) for n in range(1, 4)],
            "Slow": [Stored(message(n, "slow")) for n in range(1, 4)],
        }
    )
    destination = FakeServer()
    copier = Copier(
        SRC, DST, MemoryLedger(), CopyListener(),
        CopyOptions(send_report=False, connections=2),
        connect=slow_connector(source, destination),  # type: ignore[arg-type]
    )  # fmt: skip
    copier._recheck_seconds = RECHECK_SECONDS
    naps: list[str] = []  # the engine modules that slept (polled) instead of waiting
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith("imapcopy_tui.engine"):
            naps.append(caller)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    started = time.monotonic()
    result = copier.run()
    elapsed = time.monotonic() - started
    assert naps == []
    assert elapsed < OPENING_SECONDS + 5, f"the job took {elapsed:.1f} s"
    assert elapsed >= OPENING_SECONDS  # the slow folder was opened
    assert not result.errors
    assert [s.raw for s in destination.folders["INBOX"]] == [
        s.raw for s in source.folders["INBOX"]
    ]
    assert [s.raw for s in destination.folders["Slow"]] == [s.raw for s in source.folders["Slow"]]
