"""Hostile input Dovecot cannot put on a source: flags that are not atoms."""

from __future__ import annotations

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyResult
from tests.fakes import WHEN, FakeServer, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")


def copy(source: FakeServer, destination: FakeServer) -> CopyResult:
    options = CopyOptions(send_report=False, backoff_seconds=0.0, connections=1)
    return Copier(SRC, DST, MemoryLedger(), options=options,
                  connect=connector(source, destination)).run()  # type: ignore[arg-type]


def test_flags_that_are_not_atoms_are_dropped_and_named() -> None:
    """Flags a lenient source reports but IMAP cannot carry in APPEND (a quote, a brace, a
    bracket, an unknown system flag, \\Recent) are left out with a warning; the system flags
    and valid keywords stay, and the message is copied."""
    odd = ('a"b', "x{5}", "a]b", "\\Foo", "\\Recent", "tab\tin")
    kept = ("\\Seen", "\\Flagged", "$Forwarded", "a[b", "~x")
    source = FakeServer()
    source.folders["INBOX"].append(Stored(message(1), kept + odd))
    destination = FakeServer()
    result = copy(source, destination)
    assert destination.folders["INBOX"] == [Stored(message(1), kept, WHEN)]
    assert result.errors == []
    (warning,) = result.warnings
    assert all(flag in warning.message for flag in odd if flag != "\\Recent")
