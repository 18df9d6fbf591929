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


def test_message_without_its_date_is_not_copied_with_a_guessed_one() -> None:
    """A FETCH answer missing INTERNALDATE fails the folder (recorded) instead of copying
    the message with today's date; other folders are copied."""
    source = source_with("Other")
    source.folders["INBOX"][0] = Stored(message(1, "INBOX"), (), None)
    destination = FakeServer()
    result = copy(source, destination)
    assert destination.folders["INBOX"] == []
    assert len(destination.folders["Other"]) == 3
    (error,) = result.errors
    assert error.folder == "INBOX" and "could not be read" in error.message


def test_non_ascii_keyword_is_dropped_and_reported_not_garbled() -> None:
    """A keyword that is not ASCII cannot be sent as an IMAP atom: the message is copied
    without it and a warning names it."""
    source = FakeServer()
    source.folders["INBOX"].append(Stored(message(1), ("\\Seen", "Café")))
    destination = FakeServer()
    result = copy(source, destination)
    assert destination.folders["INBOX"][0].flags == ("\\Seen",)
    assert result.errors == [] and "Café" in result.warnings[0].message


def test_extra_pairs_refused_by_a_connection_limit_leave_the_job_to_the_others() -> None:
    """A provider that refuses connections past a limit (BYE or NO at login) makes the
    extra pairs give their folders back: everything is still copied, with a warning."""
    from typing import Any

    from imapcopy_tui.errors import NotImapError
    from tests.fakes import FakeSession

    source = source_with("A", "B", "C")
    destination = FakeServer()
    plain = connector(source, destination)
    opened: list[str] = []

    def limited(account: Account, **kwargs: Any) -> FakeSession:
        opened.append(account.role)
        if account.role == "destination" and opened.count("destination") > 1:
            raise NotImapError("destination: * BYE Too many connections")
        return plain(account, **kwargs)

    options = CopyOptions(send_report=False, backoff_seconds=0.0, connections=4)
    result = Copier(SRC, DST, MemoryLedger(), options=options,
                    connect=limited).run()  # type: ignore[arg-type]
    assert result.errors == []
    assert all(len(destination.folders[f]) == 3 for f in ("INBOX", "A", "B", "C"))
    assert any("could not be opened" in w.message for w in result.warnings)
