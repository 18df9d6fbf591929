"""The re-run check: when a folder pair's snapshot lets a run skip it, and what a snapshot
says of mail deleted on the destination; snapshots kept across the v3 -> v4 schema step."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from imapcopy_tui.engine.ledger import FolderPair, FolderSnapshot
from imapcopy_tui.storage import store as store_module
from imapcopy_tui.storage.store import JobStore


def snap(**changes: int | None) -> FolderSnapshot:
    values: dict[str, int | None] = {
        "source_uidvalidity": 7, "source_uidnext": 11, "source_messages": 10,
        "destination_uidvalidity": 9, "destination_messages": 10, "copied": 10,
        "present": 0, "bytes_copied": 1000, "source_highestmodseq": 50,
        "destination_uidnext": 21,
    }
    values.update(changes)
    return FolderSnapshot(**values)  # type: ignore[arg-type]


def test_source_unchanged_needs_every_value_and_modseq_when_both_have_it() -> None:
    s = snap()
    assert s.source_unchanged(7, 11, 10, 50)
    assert not s.source_unchanged(7, 11, 10, 51)  # a flag changed: look again
    assert not s.source_unchanged(7, 12, 10, 50)  # an arrival
    assert not s.source_unchanged(7, 11, 9, 50)  # an expunge
    assert not s.source_unchanged(8, 11, 10, 50)  # a new UIDVALIDITY
    # A server without CONDSTORE now, or a snapshot from before: the three values decide.
    assert s.source_unchanged(7, 11, 10, None)
    assert snap(source_highestmodseq=None).source_unchanged(7, 11, 10, 99)
    assert not snap(source_highestmodseq=None).source_unchanged(7, 12, 10, 99)


def test_destination_lost_bounds_the_deletions() -> None:
    s = snap()  # 10 messages, UIDNEXT 21
    assert s.destination_lost(9, 10, 21) == 0  # untouched
    assert s.destination_lost(9, 13, 24) == 0  # three new messages arrived: fine
    assert s.destination_lost(9, 10, 22) == 1  # one deleted, one arrived: same count
    assert s.destination_lost(9, 9, 21) == 1  # one deleted
    assert s.destination_lost(9, 8, 23) == 4  # up to 4 deleted (2 arrived and went, maybe)
    assert s.destination_lost(10, 10, 21) is None  # another folder now
    assert s.destination_lost(9, 10, 20) is None  # UIDNEXT went back: cannot tell
    # Without UIDNEXT (an older snapshot, or none at SELECT) only a smaller count tells.
    old = snap(destination_uidnext=None)
    assert old.destination_lost(9, 10, 22) == 0
    assert old.destination_lost(9, 8, 22) == 2
    assert s.destination_lost(9, 8, None) == 2


def test_v3_database_gains_the_new_snapshot_values(tmp_path: Path) -> None:
    """A job database of schema 3 (before HIGHESTMODSEQ) opens: its snapshots read back
    without the new values (the re-run check does without them), new ones keep them."""
    path = tmp_path / "jobs.sqlite3"
    db = sqlite3.connect(path)
    for step in store_module._SCHEMA_STEPS[:3]:
        db.executescript(step)
    db.execute(
        "INSERT INTO folder_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("a", "INBOX", "b", "INBOX", 7, 11, 10, 9, 10, 10, 0, 1000, 1),
    )
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    store = JobStore(path)
    pair = FolderPair("a", "INBOX", "b", "INBOX")
    assert store.folder_snapshot(pair, 1) == snap(
        source_highestmodseq=None, destination_uidnext=None, by_this_job=True
    )
    store.save_folder_snapshot(pair, snap(), 2)
    assert store.folder_snapshot(pair, 2) == snap(by_this_job=True)
    other = FolderPair("a", "Sent", "b", "Sent")
    store.save_folder_snapshot(other, snap(source_highestmodseq=None), 2)
    assert store.folder_snapshot(other, 3) == snap(source_highestmodseq=None)
    store.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == len(store_module._SCHEMA_STEPS)
    check.close()


def test_known_destinations_come_from_the_ledger_and_the_snapshots(tmp_path: Path) -> None:
    """Where a source folder was copied, by any job between the accounts, latest job first:
    an interrupted pass leaves only ledger entries, a pass that found everything there
    may leave only a snapshot."""
    from imapcopy_tui.engine.ledger import LedgerEntry, LedgerScope, MemoryLedger

    store = JobStore(tmp_path / "jobs.sqlite3")
    store.record_ledger(LedgerScope("a", "Envoyés", 1, "b", "Sent Items", 2),
                        [LedgerEntry(1, "f", 10, True)], 1)
    store.save_folder_snapshot(FolderPair("a", "Envoyés", "b", "Sent"), snap(), 2)
    store.record_ledger(LedgerScope("a", "Envoyés", 1, "c", "Other", 2),
                        [LedgerEntry(1, "f", 10, True)], 3)
    store.record_ledger(LedgerScope("a", "INBOX", 1, "b", "INBOX", 2),
                        [LedgerEntry(1, "f", 10, True)], 3)
    assert store.known_destinations("a", "Envoyés", "b") == ["Sent", "Sent Items"]
    assert store.known_destinations("a", "Brouillons", "b") == []
    store.close()

    memory = MemoryLedger()
    memory.record(LedgerScope("a", "Envoyés", 1, "b", "Sent Items", 2),
                  [LedgerEntry(1, "f", 10, True)])
    memory.save_snapshot(FolderPair("a", "Envoyés", "b", "Sent Items"), snap())
    assert memory.destinations("a", "Envoyés", "b") == ["Sent Items"]
