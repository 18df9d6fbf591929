"""Is the destination an exact copy of the source?  Folder by folder, message by message.

:func:`snapshot` reads a whole mailbox (EXAMINE and ``BODY.PEEK``: nothing changes) into
small digests: per message the SHA-256 of its bytes (and of its bytes without ``X-TUID:``
header lines, to name mbsync's additions), its flags without ``\\Recent``, its internal
date and size.  It fetches bodies in batches of bounded size rather than with
``tests.corpus.read_folder``, which holds a whole folder in memory in one FETCH (hundreds
of megabytes at 10,000 messages); folder names come from ``tests.corpus.list_folder_names``.

:func:`compare` then says whether the copy is exact: the same folder names, the same
messages in the same (UID) order with identical bytes, flags and internal dates, nothing
missing and nothing doubled, and, if not, what differs.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bench.corpus import CorpusPlan, render
from tests.corpus import list_folder_names

if TYPE_CHECKING:
    from imapclient import IMAPClient

BATCH_BYTES = 32 * 1000 * 1000
BATCH_COUNT = 500
_TUID = re.compile(rb"^X-TUID:[^\r\n]*\r?\n", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class MessageDigest:
    """What identifies one message's copy: bytes, flags, internal date."""

    digest: bytes
    digest_without_tuid: bytes
    flags: tuple[str, ...]
    internal_date: datetime
    size: int


Snapshot = dict[str, list[MessageDigest]]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _strip_tuid(raw: bytes) -> bytes:
    """The message without its ``X-TUID:`` header lines (mbsync's upload marker)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    return _TUID.sub(b"", head + b"\r\n")[:-2] + sep + body


def snapshot(client: IMAPClient) -> Snapshot:
    """Digests of every message of every folder, in UID order, read-only."""
    saved = client.normalise_times
    client.normalise_times = False
    try:
        return {name: _read_folder(client, name) for name in sorted(list_folder_names(client))}
    finally:
        client.normalise_times = saved


def expected_snapshot(plan: CorpusPlan) -> Snapshot:
    """What the source should hold once the plan is loaded (renders every message again)."""
    out: Snapshot = {}
    for folder in plan.folders:
        out[folder] = []
        for msg in plan.messages[folder]:
            raw = render(msg)
            whole = hashlib.sha256(raw).digest()
            out[folder].append(
                MessageDigest(whole, whole, tuple(sorted(msg.flags)), msg.internal_date, len(raw))
            )
    return out


def _read_folder(client: IMAPClient, name: str) -> list[MessageDigest]:
    selected = client.select_folder(name, readonly=True)
    if not selected.get(b"EXISTS"):
        return []
    uids = sorted(client.search("ALL"))
    meta: dict[int, dict[bytes, Any]] = client.fetch(uids, ["FLAGS", "INTERNALDATE", "RFC822.SIZE"])
    out: list[MessageDigest] = []
    batch: list[int] = []
    batch_bytes = 0
    for position, uid in enumerate(uids):
        batch.append(uid)
        batch_bytes += int(meta[uid][b"RFC822.SIZE"])
        last = position == len(uids) - 1
        if last or batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_COUNT:
            bodies = client.fetch(batch, ["BODY.PEEK[]"])
            for one in batch:
                raw = bytes(bodies[one][b"BODY[]"])
                whole = hashlib.sha256(raw).digest()
                without = hashlib.sha256(_strip_tuid(raw)).digest() if b"X-TUID" in raw else whole
                flags = tuple(
                    sorted(f for f in map(_text, meta[one][b"FLAGS"]) if f.lower() != "\\recent")
                )
                out.append(
                    MessageDigest(whole, without, flags, meta[one][b"INTERNALDATE"], len(raw))
                )
            batch, batch_bytes = [], 0
    return out


@dataclass
class Comparison:
    """How a destination differs from its source; ``identical`` when it does not."""

    source_messages: int = 0
    destination_messages: int = 0
    missing_folders: list[str] = field(default_factory=list)
    extra_folders: list[str] = field(default_factory=list)
    missing: int = 0  # source messages with no copy
    extra: int = 0  # destination messages with no source (doubles included)
    reordered: int = 0  # folders whose messages are all there but in another order
    bytes_differ: int = 0  # a source message missing, another one there instead
    tuid_added: int = 0  # identical but for X-TUID header lines
    keywords_lost: int = 0  # flags differ only by keywords missing on the destination
    flags_differ: int = 0  # any other flag difference
    dates_differ: int = 0

    @property
    def identical(self) -> bool:
        """Whether the destination is an exact copy."""
        return not (
            self.missing_folders
            or self.extra_folders
            or self.missing
            or self.extra
            or self.reordered
            or self.bytes_differ
            or self.tuid_added
            or self.keywords_lost
            or self.flags_differ
            or self.dates_differ
        )

    def summary(self) -> str:
        """``yes``, or ``no: ...`` listing every kind of difference with its count."""
        if self.identical:
            return "yes"
        parts = []
        if self.missing_folders:
            parts.append(f"folders missing {self.missing_folders}")
        if self.extra_folders:
            parts.append(f"extra folders {self.extra_folders}")
        for count, words in (
            (self.missing, "messages missing"),
            (self.extra, "messages extra/doubled"),
            (self.reordered, "folders in another order"),
            (self.bytes_differ, "messages with other bytes (one missing, another instead)"),
            (self.tuid_added, "messages with an X-TUID header added"),
            (self.keywords_lost, "messages lost keywords"),
            (self.flags_differ, "messages with other flags"),
            (self.dates_differ, "messages with another internal date"),
        ):
            if count:
                parts.append(f"{count} {words}")
        return "no: " + ", ".join(parts)


def compare(source: Snapshot, destination: Snapshot) -> Comparison:
    """Compare two snapshots whose folder names should map 1:1 (same separator)."""
    result = Comparison(
        source_messages=sum(map(len, source.values())),
        destination_messages=sum(map(len, destination.values())),
        missing_folders=sorted(set(source) - set(destination)),
        extra_folders=sorted(set(destination) - set(source)),
    )
    for name in sorted(set(source) & set(destination)):
        _compare_folder(source[name], destination[name], result)
    return result


def _compare_folder(src: list[MessageDigest], dst: list[MessageDigest], out: Comparison) -> None:
    # Identity ignores X-TUID lines so that mbsync's copies count as present, not missing.
    src_ids = Counter(m.digest_without_tuid for m in src)
    dst_ids = Counter(m.digest_without_tuid for m in dst)
    missing = sum((src_ids - dst_ids).values())
    extra = sum((dst_ids - src_ids).values())
    # As many missing as extra: most likely the same messages with other bytes.
    changed = min(missing, extra)
    out.bytes_differ += changed
    out.missing += missing - changed
    out.extra += extra - changed
    if src_ids == dst_ids and [m.digest_without_tuid for m in src] != [
        m.digest_without_tuid for m in dst
    ]:
        out.reordered += 1
    # Pair the n-th copy of each identity on both sides, then compare what goes with it.
    queues: dict[bytes, list[MessageDigest]] = {}
    for m in dst:
        queues.setdefault(m.digest_without_tuid, []).append(m)
    for s in src:
        candidates = queues.get(s.digest_without_tuid)
        if not candidates:
            continue
        d = candidates.pop(0)
        if s.digest != d.digest:
            out.tuid_added += 1
        if s.flags != d.flags:
            lost = set(s.flags) - set(d.flags)
            if set(d.flags) <= set(s.flags) and all(not f.startswith("\\") for f in lost):
                out.keywords_lost += 1
            else:
                out.flags_differ += 1
        if s.internal_date != d.internal_date:
            out.dates_differ += 1
