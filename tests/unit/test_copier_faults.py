"""The copier's severity ladder under faults real servers produce, on a fake server."""

from __future__ import annotations

from collections.abc import Sequence

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyResult
from imapcopy_tui.errors import ConnectionLostError, ServerError
from tests.fakes import FakeServer, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")
OPTIONS = CopyOptions(send_report=False, backoff_seconds=0.0, connections=1)


def copy(source: FakeServer, destination: FakeServer) -> CopyResult:
    return Copier(SRC, DST, MemoryLedger(), options=OPTIONS,
                  connect=connector(source, destination)).run()  # type: ignore[arg-type]


def source_with(*folders: str, count: int = 3) -> FakeServer:
    server = FakeServer(folders={name: [] for name in ("INBOX", *folders)})
    for name in server.folders:
        server.folders[name] = [Stored(message(n, name)) for n in range(1, count + 1)]
    return server


def test_withheld_body_is_an_error_not_a_silent_skip() -> None:
    """A server answering NIL for an existing message: recorded as failed, not dropped."""
    source = source_with()
    source.folders["INBOX"][1].withheld = True
    destination = FakeServer()
    result = copy(source, destination)
    assert [m.raw for m in destination.folders["INBOX"]] == [message(1, "INBOX"),
                                                            message(3, "INBOX")]
    (error,) = result.errors
    assert error.uid == 2 and "did not return" in error.message
    assert result.folders[0].failed == 1 and result.folders[0].total == 3


def test_refused_batch_fetch_falls_back_to_single_messages() -> None:
    """A NO to a batch FETCH: each message is fetched alone, the bad one is an error,
    and the next folder is still copied."""
    source = source_with("Next")

    def refuse(uids: Sequence[int], items: Sequence[str]) -> None:
        if "BODY.PEEK[]" in items and 2 in uids:
            raise ServerError("source: the server answered: NO [SERVERBUG] broken message")

    source.on_fetch = refuse
    destination = FakeServer()
    result = copy(source, destination)
    assert len(destination.folders["INBOX"]) == 2
    assert len(destination.folders["Next"]) == 2  # UID 2 of Next is refused as well
    assert [(e.folder, e.uid) for e in result.errors] == [("INBOX", 2), ("Next", 2)]
    assert all("SERVERBUG" in e.message for e in result.errors)


def test_connection_lost_right_after_create_is_not_a_folder_failure() -> None:
    """CREATE landed, then the connection broke: after reconnecting, the folder is there
    and is filled, with no error."""
    source = source_with("Archive")
    destination = FakeServer()
    broke: list[str] = []

    def break_once(name: str) -> None:
        if not broke:
            broke.append(name)
            raise ConnectionLostError("destination: connection lost")

    destination.on_create = break_once
    result = copy(source, destination)
    assert result.errors == []
    assert len(destination.folders["Archive"]) == 3
    assert destination.sessions == 2


def test_refusal_seen_again_after_a_reconnect_is_reported_once() -> None:
    """A refused message, then a lost connection in the same folder: the folder restarts
    and meets the refusal again, but the job lists it once."""
    source = source_with(count=4)
    destination = FakeServer()
    calls: list[bytes] = []

    def refuse_and_break(folder: str, raw: bytes) -> None:
        calls.append(raw)
        if raw == message(2, "INBOX"):
            raise ServerError("destination: the server answered: NO [OVERQUOTA] full")
        if raw == message(3, "INBOX") and calls.count(raw) == 1:
            raise ConnectionLostError("destination: connection lost")

    destination.on_append = refuse_and_break
    result = copy(source, destination)
    assert [e.uid for e in result.errors] == [2]
    assert [m.raw for m in destination.folders["INBOX"]] == [
        message(n, "INBOX") for n in (1, 3, 4)
    ]
    assert result.folders[0].failed == 1 and result.folders[0].copied == 3
