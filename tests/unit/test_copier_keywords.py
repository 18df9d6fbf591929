"""Copier behaviour that Dovecot cannot show: a destination that refuses keywords."""

from __future__ import annotations

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import Severity
from tests.fakes import WHEN, FakeServer, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")


def test_keywords_the_destination_cannot_store_are_reported_not_fatal() -> None:
    """A destination without \\* in PERMANENTFLAGS gets the message with its system flags;
    the dropped keywords are one warning, and the job has no error."""
    source = FakeServer()
    source.folders["INBOX"].append(Stored(message(1), ("\\Seen", "$Forwarded", "ProjectX")))
    destination = FakeServer(permanent_flags=frozenset({"\\Seen", "\\Flagged", "$Forwarded"}))
    result = Copier(SRC, DST, MemoryLedger(), options=CopyOptions(send_report=False),
                    connect=connector(source, destination)).run()  # type: ignore[arg-type]
    assert destination.folders["INBOX"] == [Stored(message(1), ("\\Seen", "$Forwarded"), WHEN)]
    assert result.errors == []
    (warning,) = result.warnings
    assert warning.severity is Severity.WARNING
    assert "ProjectX" in warning.message and "$Forwarded" not in warning.message
