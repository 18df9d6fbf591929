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

    When STATUS shows the source folder unchanged (:meth:`source_unchanged`) and nothing
    taken from the destination folder (:meth:`destination_lost`), the next run can skip the
    folder without opening it.  The two optional values are absent from snapshots taken by
    older versions, or on servers without CONDSTORE / UIDNEXT at SELECT.
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
    source_highestmodseq: int | None = None
    destination_uidnext: int | None = None

    def source_unchanged(
        self, uidvalidity: int, uidnext: int, messages: int, highestmodseq: int | None
    ) -> bool:
        """Whether the source folder still holds the same messages.

        Same UIDVALIDITY and UIDNEXT mean no message arrived (new ones get UIDs from
        UIDNEXT up); then the same count means none was expunged either (an expunge plus an
        arrival moves UIDNEXT).  So the three already prove the same set of UIDs, which is
        all the copy depends on.  HIGHESTMODSEQ (RFC 7162) adds flag and keyword changes:
        such a folder is scanned, which copies nothing (flags travel with a copy, they are
        not synchronised afterwards): correct, merely not skipped.  It is compared anyway,
        when both runs had it, because it is the one value a server must move on *any*
        change, so a server lax about UIDNEXT cannot hide new mail from a re-run.
        """
        if (uidvalidity, uidnext, messages) != (
            self.source_uidvalidity,
            self.source_uidnext,
            self.source_messages,
        ):
            return False
        if highestmodseq is None or self.source_highestmodseq is None:
            return True  # an older snapshot, or a server without CONDSTORE
        return highestmodseq == self.source_highestmodseq

    def destination_lost(self, uidvalidity: int, messages: int, uidnext: int | None) -> int | None:
        """At most how many messages may have been expunged from the destination folder
        since the snapshot: 0 when certainly none; None when the snapshot says nothing of
        it (UIDVALIDITY changed, or UIDNEXT went back, which no server should do).

        New mail there is normal (a user receiving mail at the new address), so the
        destination's values cannot simply be equal.  But every message added takes a UID
        at or above UIDNEXT, so ``uidnext - snapshot's`` bounds the arrivals from above;
        with ``expunged = arrived - (messages - snapshot's)``, the folder grew by exactly
        as much as UIDNEXT only if nothing was expunged.  This catches a deletion followed
        by an arrival, which the count alone hides, on every server: HIGHESTMODSEQ would
        too, but it also moves on every flag change (the user reading mail there) and on
        every arrival, and would have the folder scanned on nearly every run.  Without
        UIDNEXT in the snapshot (an older one), only a smaller count shows a loss.
        """
        if uidvalidity != self.destination_uidvalidity:
            return None
        shrunk = self.destination_messages - messages
        if uidnext is None or self.destination_uidnext is None:
            return max(shrunk, 0)
        if uidnext < self.destination_uidnext:
            return None
        return max(shrunk + (uidnext - self.destination_uidnext), 0)


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

    def destinations(
        self, source_account: str, source_folder: str, destination_account: str
    ) -> list[str]:
        """The destination folders this source folder was copied into (by any job between
        these accounts), the most recent first."""
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

    def destinations(
        self, source_account: str, source_folder: str, destination_account: str
    ) -> list[str]:
        keys: list[LedgerScope | FolderPair] = [*self._rows, *self._snapshots]
        names = [
            key.destination_folder
            for key in keys
            if (key.source_account, key.source_folder, key.destination_account)
            == (source_account, source_folder, destination_account)
        ]
        return list(dict.fromkeys(reversed(names)))  # the latest recorded first
