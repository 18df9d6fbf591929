"""Copier behaviour that Dovecot cannot show: a destination that refuses keywords."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import Severity
from imapcopy_tui.engine.session import FolderState, RawFolder

MESSAGE = b"From: a@example.com\r\nSubject: hi\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n"
WHEN = datetime(2015, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


class FakeSession:
    """An in-memory mailbox with just the commands the copier uses."""

    def __init__(self, account: Account, permanent_flags: Iterable[str]) -> None:
        self.account = account
        self.folders: dict[str, list[tuple[bytes, tuple[str, ...], datetime | None]]] = {
            "INBOX": []
        }
        self.permanent_flags = frozenset(permanent_flags)
        self.selected = "INBOX"

    def list_folders(self) -> list[RawFolder]:
        return [RawFolder(name, "/", frozenset()) for name in self.folders]

    def personal_namespace(self) -> tuple[str, str | None] | None:
        return ("", "/")

    def message_count(self, name: str) -> int:
        return len(self.folders[name])

    def create_folder(self, name: str) -> None:
        self.folders[name] = []

    def subscribe(self, name: str) -> None:
        pass

    def _open(self, name: str) -> FolderState:
        self.selected = name
        return FolderState(1, None, len(self.folders[name]), self.permanent_flags)

    examine = select = _open

    def all_uids(self) -> list[int]:
        return list(range(1, len(self.folders[self.selected]) + 1))

    def fetch(self, uids: Sequence[int], items: Sequence[str]) -> dict[int, dict[bytes, Any]]:
        out = {}
        for uid in uids:
            raw, flags, date = self.folders[self.selected][uid - 1]
            header = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            out[uid] = {b"BODY[]": raw, b"BODY[HEADER]": header, b"RFC822.SIZE": len(raw),
                        b"FLAGS": flags, b"INTERNALDATE": date}
        return out

    def append(self, folder: str, message: bytes, flags: Iterable[str],
               internal_date: datetime | None) -> int | None:
        self.folders[folder].append((message, tuple(flags), internal_date))
        return len(self.folders[folder])

    def close(self) -> None:
        pass


def test_keywords_the_destination_cannot_store_are_reported_not_fatal() -> None:
    """A destination without \\* in PERMANENTFLAGS gets the message with its system flags;
    the dropped keywords are one warning, and the job has no error."""
    src_acct = Account(host="src", login="a", password="x")
    dst_acct = Account(host="dst", login="b", password="y")
    source = FakeSession(src_acct, ["\\*"])
    source.folders["INBOX"].append((MESSAGE, ("\\Seen", "$Forwarded", "ProjectX"), WHEN))
    destination = FakeSession(dst_acct, ["\\Seen", "\\Flagged", "$Forwarded"])
    sessions = {"src": source, "dst": destination}

    def connect(account: Account, **_: Any) -> FakeSession:
        return sessions[account.host]

    result = Copier(src_acct, dst_acct, MemoryLedger(), options=CopyOptions(send_report=False),
                    connect=connect).run()  # type: ignore[arg-type]
    assert destination.folders["INBOX"] == [(MESSAGE, ("\\Seen", "$Forwarded"), WHEN)]
    assert result.errors == []
    (warning,) = result.warnings
    assert warning.severity is Severity.WARNING
    assert "ProjectX" in warning.message and "$Forwarded" not in warning.message
