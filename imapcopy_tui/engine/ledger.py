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
class LedgerEntry:
    """A source message known to be on the destination."""

    uid: int
    fingerprint: str
    size: int
    copied_by_this_job: bool  # False: it was there already, or an earlier job copied it


class Ledger(Protocol):
    def entries(self, scope: LedgerScope) -> dict[int, LedgerEntry]:
        """Entries of ``scope`` by source UID."""
        ...

    def record(self, scope: LedgerScope, entries: Sequence[LedgerEntry]) -> None:
        """Remember that these source messages are on the destination."""
        ...


class MemoryLedger:
    """A ledger that lives as long as the object: for dry runs and tests."""

    def __init__(self) -> None:
        self._rows: dict[LedgerScope, dict[int, LedgerEntry]] = {}

    def entries(self, scope: LedgerScope) -> dict[int, LedgerEntry]:
        return dict(self._rows.get(scope, {}))

    def record(self, scope: LedgerScope, entries: Sequence[LedgerEntry]) -> None:
        self._rows.setdefault(scope, {}).update({e.uid: e for e in entries})
