"""Hostile input Dovecot cannot put on a source: raw NUL bytes from the source server,
flags that are not atoms, internal dates the destination will not keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyResult, Severity
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


def test_internal_date_far_ahead_is_copied_with_a_warning() -> None:
    """A date more than two hours ahead is sent as it is, but Dovecot (and maybe others)
    would store the time of the copy instead, silently: the job says which messages."""
    ahead = datetime.now(UTC) + timedelta(days=365 * 80)
    source = FakeServer()
    source.folders["INBOX"] = [Stored(message(1)), Stored(message(2), (), ahead),
                               Stored(message(3), (), datetime.now(UTC) + timedelta(minutes=5))]
    destination = FakeServer()
    result = copy(source, destination)
    assert [m.date for m in destination.folders["INBOX"]][1] == ahead
    assert result.errors == []
    (warning,) = result.warnings
    assert warning.severity is Severity.WARNING and warning.uid == 2
    assert "1 message(s) (UID 2)" in warning.message


def test_internal_date_before_1970_is_copied_with_a_warning() -> None:
    """Dovecot keeps internal dates as unsigned 32-bit seconds: one before 1970 (a broken
    import's year 1, say) comes back decades ahead.  Sent as it is, with a warning."""
    source = FakeServer()
    early = [datetime(1, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)]
    source.folders["INBOX"] = [Stored(message(1), (), early[0]), Stored(message(2)),
                               Stored(message(3), (), early[1])]
    destination = FakeServer()
    result = copy(source, destination)
    assert [m.date for m in destination.folders["INBOX"]] == [early[0], WHEN, early[1]]
    (warning,) = result.warnings
    assert warning.uid is None and "2 message(s) (UID 1, 3)" in warning.message
    assert "before 1970" in warning.message
