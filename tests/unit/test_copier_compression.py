"""How the copier asks for compression, side by side, on a fake server."""

from __future__ import annotations

from typing import Any

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.answers import printable_line
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.session import Compression, CompressionOutcome, CompressionResult
from tests.fakes import FakeServer, FakeSession, Stored, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")


def run(compress: Compression, slow: set[str], offered: set[str]) -> dict[str, list[str]]:
    """Copy four folders over up to four pairs; return the compression asked of each connection
    by side.  A side in ``slow`` is compressed by auto, one in ``offered`` by on."""
    source = FakeServer(folders={n: [Stored(message(1, n))] for n in ("INBOX", "A", "B", "C")})
    destination = FakeServer()
    asked: dict[str, list[str]] = {"source": [], "destination": []}

    def connect(account: Account, compression: Compression, **_: Any) -> FakeSession:
        asked[account.role].append(compression.value)
        session = FakeSession(account, source if account.role == "source" else destination)
        session.compressed = account.role in offered and (
            compression is Compression.ON
            or (compression is Compression.AUTO and account.role in slow)
        )
        return session

    options = CopyOptions(send_report=False, connections=4, compress=compress)
    result = Copier(SRC, DST, MemoryLedger(), options=options,
                    connect=connect).run()  # type: ignore[arg-type]
    assert not result.errors
    assert sorted(destination.folders) == ["A", "B", "C", "INBOX"]
    return asked


def test_auto_is_settled_by_the_first_connection_of_each_side() -> None:
    """The first connection of a side measures its link; the others follow its answer (a
    busy moment later on does not turn compression on for one connection)."""
    asked = run(Compression.AUTO, slow={"destination"}, offered={"source", "destination"})
    assert asked["source"][0] == asked["destination"][0] == "auto"
    assert len(asked["source"]) >= 2  # extra pairs open only while folders are left
    assert set(asked["source"][1:]) == {"off"}
    assert set(asked["destination"][1:]) == {"on"}


@pytest.mark.parametrize("compress", [Compression.ON, Compression.OFF])
def test_on_and_off_are_asked_of_every_connection(compress: Compression) -> None:
    asked = run(compress, slow=set(), offered={"source", "destination"})
    assert set(asked["source"]) == set(asked["destination"]) == {compress.value}


def test_on_without_the_server_offering_it_warns_once_for_that_side() -> None:
    source = FakeServer(folders={n: [Stored(message(1, n))] for n in ("INBOX", "A", "B")})
    destination = FakeServer()

    def connect(account: Account, **_: Any) -> FakeSession:
        session = FakeSession(account, source if account.role == "source" else destination)
        session.compressed = account.role == "destination"
        return session

    options = CopyOptions(send_report=False, connections=3, compress=Compression.ON)
    result = Copier(SRC, DST, MemoryLedger(), options=options,
                    connect=connect).run()  # type: ignore[arg-type]
    assert [(i.severity.value, i.message) for i in result.issues] == [
        ("warning", "the source server does not offer compression (COMPRESS=DEFLATE); "
                    "copying uncompressed")
    ]
    assert sorted(destination.folders) == ["A", "B", "INBOX"]


@pytest.mark.parametrize(("outcome", "why"), [
    (CompressionOutcome(CompressionResult.REFUSED, "[COMPRESSIONACTIVE] Already on"),
     "offers compression (COMPRESS=DEFLATE) but refused it ([COMPRESSIONACTIVE] Already on)"),
    (CompressionOutcome(CompressionResult.REFUSED),
     "offers compression (COMPRESS=DEFLATE) but refused it"),
    (CompressionOutcome(CompressionResult.REJECTED, "Unknown command"),
     "offers compression (COMPRESS=DEFLATE) but refused it as a bad command (Unknown command)"),
], ids=["no-with-words", "no-without-words", "bad"])
def test_on_refused_by_a_server_that_offers_it_says_so(
    outcome: CompressionOutcome, why: str
) -> None:
    """Offered but refused is not "not offered": the warning says which, with the server's
    words when it gave any; the copy goes on uncompressed."""
    source = FakeServer(folders={n: [Stored(message(1, n))] for n in ("INBOX", "A")})
    destination = FakeServer()

    def connect(account: Account, **_: Any) -> FakeSession:
        session = FakeSession(account, source if account.role == "source" else destination)
        if account.role == "destination":
            session.compression = outcome
        else:
            session.compressed = True
        return session

    options = CopyOptions(send_report=False, connections=2, compress=Compression.ON)
    result = Copier(SRC, DST, MemoryLedger(), options=options,
                    connect=connect).run()  # type: ignore[arg-type]
    assert [(i.severity.value, i.message) for i in result.issues] == [
        ("warning", f"the destination server {why}; copying uncompressed")
    ]
    assert sorted(destination.folders) == ["A", "INBOX"]


def test_server_words_are_shown_as_one_short_printable_line() -> None:
    """Line breaks, escapes and tabs become single spaces; a long text is cut."""
    assert printable_line("Not\r\n now\x1b[2J,\t\tsorry\x00") == "Not now [2J, sorry"
    long = printable_line("x" * 5000)
    assert len(long) == 200 and long.endswith("...")
