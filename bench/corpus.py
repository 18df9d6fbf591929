"""A deterministic, realistic mailbox for the benchmark, planned then rendered on demand.

:func:`plan_corpus` decides everything about every message (folder, size, kind, flags,
internal date, odd headers) from one seeded RNG; :func:`render` turns one planned message
into its bytes from the message's own seed, so messages can be built lazily, in any order
or in several threads, and are byte-identical from run to run.

The shape, for ``n`` messages (sizes are in decimal units: 1 KB = 1000 bytes):

* 72.5 % of 2–20 KB (plain text, or text + HTML), 18 % of 20–200 KB and 9.5 % of
  200 KB–1 MB (text + a base64 attachment): about 66 KB on average, so 2,000 messages make
  about 132 MB.  Sizes are drawn log-uniformly at stratified quantiles, so the total hardly
  varies with ``n``;
* ``big`` of the ``n`` are instead 10–25 MB (one attachment each), in INBOX, Archive and Sent;
* folders INBOX (40 %), Archive (17 %), Archive/2019 (18 %), Sent (20 %), ``Données``
  (5 %, a non-ASCII name) and Trash (empty); internal dates spread over 2009–2024, ascending
  within each folder (UID order is arrival order, as on a real server);
* flags and keywords: ``\\Seen``, ``\\Answered``, ``\\Flagged``, ``$Forwarded`` and the
  custom keyword ``ProjectX``;
* odd headers: folded ``Received``, ``DKIM-Signature`` and long ``To`` lines everywhere,
  raw 8-bit UTF-8 in the Subject of 5 % of the messages, one unfolded 900-character header
  line in 2 %, RFC 2047 encoded names, 1 % without a Message-ID;
* one exact duplicate pair in Archive (same bytes, flags and date), as real mailboxes have.

The bytes of a message come from :func:`bench.render.render` (re-exported here).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from bench.render import render

__all__ = ["CorpusPlan", "FolderSpec", "PlannedMessage", "default_big", "plan_corpus", "render"]

SEED = 20250611
KB = 1000
MB = 1000 * 1000


@dataclass(frozen=True)
class FolderSpec:
    """One folder of the corpus: its name (``/``-separated), share of messages, years."""

    name: str
    share: float
    first_year: int
    last_year: int


FOLDERS: tuple[FolderSpec, ...] = (
    FolderSpec("INBOX", 0.40, 2020, 2024),
    FolderSpec("Archive", 0.17, 2009, 2018),
    FolderSpec("Archive/2019", 0.18, 2019, 2019),
    FolderSpec("Sent", 0.20, 2009, 2024),
    FolderSpec("Données", 0.05, 2012, 2024),
    FolderSpec("Trash", 0.0, 2009, 2024),
)
"""Parents before children; INBOX exists already, the others are created."""

BIG_FOLDERS = ("INBOX", "Archive", "Sent")

# (share of the ordinary messages, smallest size, largest size)
_SIZE_CLASSES = ((0.725, 2 * KB, 20 * KB), (0.18, 20 * KB, 200 * KB), (0.095, 200 * KB, MB))
_BIG_RANGE = (10 * MB, 25 * MB)


@dataclass(frozen=True)
class PlannedMessage:
    """Everything about one message except its bytes (see :func:`render`)."""

    folder: str
    seed: int
    size: int  # the size aimed at; the rendered message is within a few hundred bytes
    kind: str  # "text", "alternative" (text + HTML) or "attachment"
    flags: tuple[str, ...]
    internal_date: datetime
    utf8_subject: bool = False
    long_header: bool = False
    message_id: bool = True


@dataclass(frozen=True)
class CorpusPlan:
    """The whole corpus: folders in creation order and their messages in append order."""

    folders: tuple[str, ...]
    messages: dict[str, tuple[PlannedMessage, ...]]

    @property
    def count(self) -> int:
        """How many messages in all."""
        return sum(len(items) for items in self.messages.values())

    @property
    def target_bytes(self) -> int:
        """The sum of the planned sizes (the real total is within a fraction of a percent)."""
        return sum(m.size for items in self.messages.values() for m in items)


def default_big(messages: int) -> int:
    """How many 10–25 MB messages a corpus of ``messages`` gets unless told."""
    if messages < 500:
        return 0
    return 3 if messages >= 2000 else 1


def plan_corpus(messages: int, big: int, seed: int = SEED) -> CorpusPlan:
    """Plan ``messages`` messages, ``big`` of them large ones, deterministically."""
    if messages < 0 or big < 0:
        raise ValueError("message counts must not be negative")
    if big > messages:
        raise ValueError("there cannot be more big messages than messages")
    rng = random.Random(seed)
    messages -= big
    sizes = _stratified_sizes(rng, messages)
    rng.shuffle(sizes)

    # Exact counts per folder (largest remainder), the rest to INBOX.
    counts = {spec.name: int(messages * spec.share) for spec in FOLDERS}
    counts["INBOX"] += messages - sum(counts.values())
    per_folder: dict[str, list[tuple[int, str]]] = {spec.name: [] for spec in FOLDERS}
    position = 0
    for spec in FOLDERS:
        for size in sizes[position : position + counts[spec.name]]:
            per_folder[spec.name].append((size, _kind(rng, size)))
        position += counts[spec.name]
    for i in range(big):
        size = rng.randrange(*_BIG_RANGE)
        per_folder[BIG_FOLDERS[i % len(BIG_FOLDERS)]].append((size, "attachment"))

    planned: dict[str, tuple[PlannedMessage, ...]] = {}
    for spec in FOLDERS:
        items = per_folder[spec.name]
        rng.shuffle(items)  # big ones land anywhere in the folder's history
        dates = sorted(_random_dates(rng, spec, len(items)))
        folder_msgs = [
            PlannedMessage(
                folder=spec.name,
                seed=rng.getrandbits(64),
                size=size,
                kind=kind,
                flags=_flags(rng, spec.name, date),
                internal_date=date,
                utf8_subject=rng.random() < 0.05,
                long_header=rng.random() < 0.02,
                message_id=rng.random() >= 0.01,
            )
            for (size, kind), date in zip(items, dates, strict=True)
        ]
        if spec.name == "Archive" and len(folder_msgs) >= 10:
            # An exact duplicate pair: the same message delivered twice.
            k = len(folder_msgs) // 2
            folder_msgs[k + 1] = folder_msgs[k]
        planned[spec.name] = tuple(folder_msgs)
    return CorpusPlan(tuple(spec.name for spec in FOLDERS), planned)


def _stratified_sizes(rng: random.Random, n: int) -> list[int]:
    counts = [round(n * share) for share, _, _ in _SIZE_CLASSES[:-1]]
    counts.append(n - sum(counts))
    sizes = []
    for count, (_, low, high) in zip(counts, _SIZE_CLASSES, strict=True):
        for j in range(count):
            q = (j + rng.random()) / count
            sizes.append(int(low * math.exp(q * math.log(high / low))))
    return sizes


def _kind(rng: random.Random, size: int) -> str:
    if size > 20 * KB:
        return "attachment"
    return "alternative" if rng.random() < 0.35 else "text"


def _random_dates(rng: random.Random, spec: FolderSpec, n: int) -> Iterator[datetime]:
    start = datetime(spec.first_year, 1, 1, tzinfo=UTC)
    span = int((datetime(spec.last_year + 1, 1, 1, tzinfo=UTC) - start).total_seconds())
    for _ in range(n):
        zone = timezone(timedelta(hours=rng.choice((-8, -5, 0, 1, 2, 9))))
        yield (start + timedelta(seconds=rng.randrange(span))).astimezone(zone)


def _flags(rng: random.Random, folder: str, date: datetime) -> tuple[str, ...]:
    if folder == "Sent":
        flags = {"\\Seen"}
        if rng.random() < 0.05:
            flags.add("ProjectX")
        return tuple(sorted(flags))
    flags = set()
    # Recent mail is less often read.
    if rng.random() < (0.6 if date.year >= 2024 else 0.92):
        flags.add("\\Seen")
    for flag, chance in (
        ("\\Answered", 0.10),
        ("\\Flagged", 0.08),
        ("$Forwarded", 0.05),
        ("ProjectX", 0.06),
    ):
        if rng.random() < chance:
            flags.add(flag)
    return tuple(sorted(flags))
