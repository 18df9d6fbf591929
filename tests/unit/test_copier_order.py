"""Which folder a pair takes first: the largest, so that none is started last and alone."""

from __future__ import annotations

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Connector, Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyListener, FolderCounts
from tests.fakes import FakeServer, FakeSession, Stored, connector, message

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


def counting(source: FakeServer, destination: FakeServer, opened: list[str]) -> Connector:
    inner = connector(source, destination)

    def connect(account: Account, **kwargs: object) -> FakeSession:
        opened.append(account.role)
        return inner(account, **kwargs)

    return connect  # type: ignore[return-value]


@pytest.mark.parametrize(("messages", "expected"), [(150, 2), (250, 8)])
def test_extra_connections_only_for_a_folder_large_enough_to_share(
    messages: int, expected: int
) -> None:
    """One folder and four allowed pairs: a folder that goes in one batch (at most 200
    messages) is copied by the planning pair alone; a larger one gets every connection,
    the others fetching its batches ahead."""
    source = FakeServer(folders={"INBOX": [Stored(message(n)) for n in range(messages)]})
    destination = FakeServer()
    opened: list[str] = []
    options = CopyOptions(send_report=False, connections=4)
    Copier(SRC, DST, MemoryLedger(), options=options,
           connect=counting(source, destination, opened)).run()
    assert len(opened) == expected
    assert len(destination.folders["INBOX"]) == messages
