"""The ledger: which source messages are already on the destination.

The engine only needs this protocol; :mod:`imapcopy_tui.storage` keeps it in SQLite so a
stopped copy resumes, and :class:`MemoryLedger` serves dry runs and tests.  Entries are
keyed by both folders' UIDVALIDITY: when either changes, the old entries no longer apply
and the fingerprint comparison takes over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LedgerScope:
    """One source folder copied into one destination folder."""

    source_account: str
    source_folder: str
    source_uidvalidity: int
    destination_account: str
    destination_folder: str
    destination_uidvalidity: int


@dataclass(frozen=True)
class FolderPair:
    """A source folder and where it is copied, whatever their UIDVALIDITY."""

    source_account: str
    source_folder: str
    destination_account: str
    destination_folder: str


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A source message known to be on the destination."""

    uid: int
    fingerprint: str
    size: int
    copied_by_this_job: bool  # False: it was there already, or an earlier job copied it


@dataclass(frozen=True)
class FolderSnapshot:
    """A folder pair as it stood after a complete pass with no failure.

    When STATUS shows the source folder unchanged (same UIDVALIDITY, UIDNEXT and message
    count) and the destination folder still has its UIDVALIDITY and at least as many
    messages, the next run can skip the folder without opening it.
    """

    source_uidvalidity: int
    source_uidnext: int
    source_messages: int
    destination_uidvalidity: int
    destination_messages: int
    copied: int
    present: int
    bytes_copied: int
    by_this_job: bool = False  # the counts were made by the job asking


class Ledger(Protocol):
    def entries(self, scope: LedgerScope) -> dict[int, LedgerEntry]:
        """Entries of ``scope`` by source UID."""
        ...

    def record(self, scope: LedgerScope, entries: Sequence[LedgerEntry]) -> None:
        """Remember that these source messages are on the destination."""
        ...

    def snapshot(self, pair: FolderPair) -> FolderSnapshot | None:
        """The last complete pass over this folder pair, if any."""
        ...

    def save_snapshot(self, pair: FolderPair, snapshot: FolderSnapshot) -> None:
        """Remember a complete pass over this folder pair."""
        ...


class MemoryLedger:
    """A ledger that lives as long as the object: for dry runs and tests."""

    def __init__(self) -> None:
        self._rows: dict[LedgerScope, dict[int, LedgerEntry]] = {}
        self._snapshots: dict[FolderPair, FolderSnapshot] = {}

    def entries(self, scope: LedgerScope) -> dict[int, LedgerEntry]:
        return dict(self._rows.get(scope, {}))

    def record(self, scope: LedgerScope, entries: Sequence[LedgerEntry]) -> None:
        self._rows.setdefault(scope, {}).update({e.uid: e for e in entries})

    def snapshot(self, pair: FolderPair) -> FolderSnapshot | None:
        return self._snapshots.get(pair)

    def save_snapshot(self, pair: FolderPair, snapshot: FolderSnapshot) -> None:
        self._snapshots[pair] = snapshot
