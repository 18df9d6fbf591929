"""Hostile input Dovecot cannot put on a source: raw NUL bytes from the source server,
flags that are not atoms."""

from __future__ import annotations

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyResult
from tests.fakes import WHEN, FakeServer, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")
NUL_MESSAGE = b"Subject: nul\r\n\r\nbefore\x00after\r\n"


def copy(source: FakeServer, destination: FakeServer) -> CopyResult:
    options = CopyOptions(send_report=False, backoff_seconds=0.0, connections=1)
    return Copier(SRC, DST, MemoryLedger(), options=options,
                  connect=connector(source, destination)).run()  # type: ignore[arg-type]


def nul_source() -> FakeServer:
    source = FakeServer()
    source.folders["INBOX"] = [Stored(message(1)), Stored(NUL_MESSAGE), Stored(message(3))]
    return source


def test_nul_bytes_without_binary_fail_that_message_with_the_reason() -> None:
    """A source that sends NUL bytes raw, a destination without BINARY: a plain literal may
    not carry NUL (a strict server answers BAD, and after a BAD in a streamed MULTIAPPEND it
    would read the following messages as commands), so the message is not sent and is
    recorded as failed, saying why; the others are copied."""
    destination = FakeServer()
    result = copy(nul_source(), destination)
    assert [m.raw for m in destination.folders["INBOX"]] == [message(1), message(3)]
    (error,) = result.errors
    assert error.uid == 2 and "NUL" in error.message and "BINARY" in error.message
    assert result.folders[0].failed == 1 and result.folders[0].copied == 2


def test_nul_bytes_go_through_to_a_destination_with_binary() -> None:
    """With BINARY (and MULTIAPPEND with LITERAL+), the message goes as it is, NUL kept."""
    destination = FakeServer(binary=True)
    result = copy(nul_source(), destination)
    assert result.errors == []
    assert [m.raw for m in destination.folders["INBOX"]] == [message(1), NUL_MESSAGE, message(3)]


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
