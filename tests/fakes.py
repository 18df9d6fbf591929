"""An in-memory stand-in for the engine's IMAP session, for unit tests of the copier.

It implements just the commands :class:`~imapcopy_tui.engine.copier.Copier` uses, with
hooks to inject the refusals and faults real servers produce.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.bulk import OutgoingMessage
from imapcopy_tui.engine.session import (
    CompressionOutcome,
    CompressionResult,
    FolderState,
    FolderStatus,
    RawFolder,
)
from imapcopy_tui.engine.wire import FetchedMessage
from imapcopy_tui.errors import ServerError

WHEN = datetime(2015, 3, 4, 5, 6, 7, tzinfo=UTC)


def message(n: int, subject: str = "hello") -> bytes:
    return (f"From: a@example.com\r\nSubject: {subject} {n}\r\nMessage-ID: <{n}@x>\r\n\r\n"
            f"body {n}\r\n").encode()


@dataclass
class Stored:
    raw: bytes
    flags: tuple[str, ...] = ()
    date: datetime | None = WHEN
    withheld: bool = False  # the server answers NIL for its body


@dataclass
class FakeServer:
    """Mailboxes shared by every session opened on it (they survive reconnects)."""

    folders: dict[str, list[Stored]] = field(default_factory=lambda: {"INBOX": []})
    permanent_flags: frozenset[str] = frozenset({"\\*"})
    # Hooks: called with the arguments; may raise to simulate a refusal or a fault.
    on_append: Callable[[str, bytes], None] | None = None
    on_create: Callable[[str], None] | None = None
    on_fetch: Callable[[Sequence[int], Sequence[str]], None] | None = None
    multiappend: bool = True
    binary: bool = False  # BINARY (RFC 3516): NUL bytes can be appended
    sessions: int = 0
    multiappends: int = 0


class FakeSession:
    compressed = False  # no COMPRESS=DEFLATE here
    compression = CompressionOutcome(CompressionResult.NOT_OFFERED)

    def __init__(self, account: Account, server: FakeServer) -> None:
        self.account = account
        self.server = server
        self.selected = "INBOX"
        server.sessions += 1

    def list_folders(self) -> list[RawFolder]:
        return [RawFolder(name, "/", frozenset()) for name in self.server.folders]

    def namespaces(self) -> tuple[tuple[str, str | None] | None, tuple[str, ...]]:
        return ("", "/"), ()

    def statuses(
        self, names: Sequence[str], *, modseq: bool = False
    ) -> dict[str, FolderStatus]:
        # Like a server without CONDSTORE: HIGHESTMODSEQ is never given.
        return {name: self.status(name) for name in names if name in self.server.folders}

    def status(self, name: str) -> FolderStatus:
        count = len(self.server.folders[name])
        return FolderStatus(messages=count, uidnext=count + 1, uidvalidity=1)

    def create_folders(self, names: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        outcome: dict[str, tuple[str | None, str | None]] = {}
        for name in names:
            try:
                self.create_folder(name)
            except ServerError as exc:
                outcome[name] = (str(exc), None)
            else:
                outcome[name] = (None, None)
        return outcome

    def create_folder(self, name: str) -> None:
        self.server.folders.setdefault(name, [])
        if self.server.on_create:
            self.server.on_create(name)

    def subscribe(self, name: str) -> None:
        pass

    def _open(self, name: str) -> FolderState:
        self.selected = name
        return FolderState(1, None, len(self.server.folders[name]), self.server.permanent_flags)

    examine = select = _open

    def examine_uids(self, name: str) -> tuple[FolderState, list[int]]:
        state = self._open(name)
        return state, self.all_uids()

    def all_uids(self) -> list[int]:
        return list(range(1, len(self.server.folders[self.selected]) + 1))

    def existing_uids(self, uids: Sequence[int]) -> list[int]:
        return [u for u in uids if 0 < u <= len(self.server.folders[self.selected])]

    def fetch(self, uids: Sequence[int], items: Sequence[str]) -> dict[int, FetchedMessage]:
        if self.server.on_fetch:
            self.server.on_fetch(uids, items)
        out: dict[int, FetchedMessage] = {}
        for uid in uids:
            stored = self.server.folders[self.selected][uid - 1]
            header = stored.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            out[uid] = FetchedMessage(
                uid=uid, size=len(stored.raw), flags=stored.flags, internal_date=stored.date,
                body=None if stored.withheld else stored.raw, header=header,
            )
        return out

    @property
    def append_limit(self) -> int | None:
        return None

    @property
    def can_append_many(self) -> bool:
        return self.server.multiappend

    @property
    def can_pipeline_appends(self) -> bool:
        return False  # no LITERAL+ here: one APPEND at a time without MULTIAPPEND

    @property
    def can_append_nul(self) -> bool:
        return self.server.binary and self.server.multiappend

    def append_many(self, folder: str, messages: Sequence[OutgoingMessage]) -> None:
        """All or nothing, like MULTIAPPEND."""
        self.server.multiappends += 1
        if self.server.on_append:
            for m in messages:
                self.server.on_append(folder, m.raw)
        self.server.folders[folder].extend(
            Stored(m.raw, tuple(m.flags), m.internal_date) for m in messages
        )

    def append(self, folder: str, raw: bytes, flags: Iterable[str],
               internal_date: datetime | None) -> int | None:
        if self.server.on_append:
            self.server.on_append(folder, raw)
        self.server.folders[folder].append(Stored(raw, tuple(flags), internal_date))
        return len(self.server.folders[folder])

    def close(self) -> None:
        pass


def connector(source: FakeServer, destination: FakeServer) -> Callable[..., FakeSession]:
    """A ``connect`` for the Copier: the source account reaches ``source``, the other one
    ``destination``."""

    def connect(account: Account, **_: Any) -> FakeSession:
        return FakeSession(account, source if account.role == "source" else destination)

    return connect
