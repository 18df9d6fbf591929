"""Which folder a pair takes first: the largest, so that none is started last and alone."""

from __future__ import annotations

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyListener, FolderCounts
from tests.fakes import FakeServer, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")


class Started(CopyListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def folder_started(self, counts: FolderCounts) -> None:
        self.names.append(counts.display_name)


def test_folders_are_copied_largest_first_and_equals_in_plan_order() -> None:
    sizes = {"INBOX": 3, "Archive": 2, "Big": 6, "Mid": 4, "Other": 2}
    source = FakeServer(
        folders={
            name: [Stored(message(n, name)) for n in range(1, count + 1)]
            for name, count in sizes.items()
        }
    )
    destination = FakeServer()
    started = Started()
    options = CopyOptions(send_report=False, connections=1)
    Copier(SRC, DST, MemoryLedger(), started, options,
           connect=connector(source, destination)).run()  # type: ignore[arg-type]
    assert started.names == ["Big", "Mid", "INBOX", "Archive", "Other"]
    assert {name: len(destination.folders[name]) for name in sizes} == sizes
