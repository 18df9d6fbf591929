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

Attachments are line-aligned slices of one seeded pool of base64 text, so that building
hundreds of megabytes costs memory copies, not random numbers (nothing in the chain
compresses or de-duplicates, so the repetition does not flatter anyone).
"""

from __future__ import annotations

import base64
import functools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime

SEED = 20250611
KB = 1000
MB = 1000 * 1000

USER = ("Bench User", "bench@example.org")
"""The mailbox owner: the sender of everything in Sent."""


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
            for (size, kind), date in zip(items, dates)
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
    for count, (_, low, high) in zip(counts, _SIZE_CLASSES):
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


# --- rendering --------------------------------------------------------------------------

_PEOPLE = (
    ("Alice Martin", "alice@example.net"),
    ("Bob Durand", "bob.durand@example.com"),
    ("Carol Nguyen", "carol@corp.example"),
    ("Dmitri Ivanov", "dmitri@example.ru"),
    ("Eve Tanaka", "eve@example.jp"),
    ("Frank Müller", "frank.mueller@example.de"),
    ("Zoë Lefèvre", "zoe@example.fr"),
    ("Support Team", "support@vendor.example"),
    ("Newsletter", "news@lists.example.com"),
)

_SUBJECTS = (
    "Quarterly figures",
    "Meeting on Tuesday",
    "Invoice {n}",
    "Office closed on Monday",
    "Release notes {n}",
    "Newsletter: spring edition",
    "Proposal for the new supplier",
    "ProjectX kickoff notes",
    "Build broken on release branch",
    "Travel booking {n}",
    "Your order #{n} has shipped",
    "Minutes of the board meeting",
    "Server migration plan",
)

_UTF8_SUBJECTS = (
    "Réunion à Genève — ordre du jour",
    "Überprüfung der Änderungen",
    "Отчёт за квартал",
    "会議の議事録 {n}",
    "Café ☕ demain ?",
    "Ζητήματα προϋπολογισμού",
)

_ATTACHMENTS = (
    ("report.pdf", "application/pdf"),
    ("IMG_%d.jpg", "image/jpeg"),
    ("archive.zip", "application/zip"),
    ("figures.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)

_SENTENCES = (
    (
        "Thanks for the update, I had a look at the figures and they match what we saw last "
        "quarter, apart from the shipping costs which went up again."
    ),
    "Can we move the meeting to Thursday? Tuesday is full of interviews on my side.",
    (
        "Attached is the summary we discussed; let me know if anything is missing before I "
        "send it to the wider team."
    ),
    "Reminder: the office is closed on Monday for maintenance of the heating system.",
    "I fixed the build on the release branch, the flaky test depended on the time zone.",
    "The supplier confirmed the delivery for the end of the month, with the usual terms.",
    "Please review the attached draft and send me your comments by Friday noon.",
    "We will need two more people on the migration project from September onwards.",
    "La réunion aura lieu à 14 h dans la salle « Léman », au deuxième étage.",
    "Die Änderungen wurden geprüft und sind für die nächste Version freigegeben.",
)


@functools.lru_cache(maxsize=1)
def _paragraphs() -> tuple[bytes, ...]:
    """About forty wrapped paragraphs to pick from (building text word by word is slow)."""
    rng = random.Random(SEED + 1)
    out = []
    for _ in range(40):
        words = " ".join(rng.choice(_SENTENCES) for _ in range(rng.randrange(2, 6))).split()
        lines, line = [], ""
        for word in words:
            if line and len(line) + 1 + len(word) > 72:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
        out.append(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _base64_pool() -> bytes:
    """About 27 MB of base64 text in 76-character CRLF lines, from the corpus seed."""
    raw = random.Random(SEED + 2).randbytes(20 * MB)
    return base64.encodebytes(raw).replace(b"\n", b"\r\n")


_B64_LINE = 78  # 76 characters + CRLF


def _text(rng: random.Random, size: int) -> bytes:
    paragraphs = _paragraphs()
    parts: list[bytes] = []
    total = 0
    while total < size:
        part = rng.choice(paragraphs)
        parts.append(part)
        total += len(part)
    text = b"".join(parts)
    if len(text) > size:
        cut = text.rfind(b"\r\n", 0, max(size, 2))
        text = text[: cut + 2] if cut > 0 else text[:size]
    return b"Hello,\r\n\r\n" + text + b"Best regards\r\n"


def _attachment(rng: random.Random, size: int) -> bytes:
    pool = _base64_pool()
    lines = max(1, size // _B64_LINE)
    available = len(pool) // _B64_LINE - 1  # the last line may be short
    lines = min(lines, available)
    start = rng.randrange(available - lines + 1) * _B64_LINE
    return pool[start : start + lines * _B64_LINE]


def _encoded(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _address(person: tuple[str, str]) -> str:
    return f"{_encoded(person[0])} <{person[1]}>"


def _fold(values: list[str], joiner: str = ",") -> str:
    """Values on separate continuation lines, as mailers fold long address lists."""
    return (joiner + "\r\n\t").join(values)


def render(msg: PlannedMessage) -> bytes:
    """The message's bytes (CRLF line ends), about ``msg.size`` long, always the same."""
    rng = random.Random(msg.seed)
    n = rng.randrange(1000, 99999)
    if msg.folder == "Sent":
        sender, recipients = USER, rng.sample(_PEOPLE, rng.randrange(1, 4))
    else:
        sender, recipients = rng.choice(_PEOPLE), [USER, *rng.sample(_PEOPLE, rng.randrange(0, 5))]
    sent = msg.internal_date - timedelta(seconds=rng.randrange(5, 3600))
    if msg.utf8_subject:
        subject = rng.choice(_UTF8_SUBJECTS).format(n=n)  # raw 8-bit UTF-8, as some mailers do
    else:
        subject = rng.choice(_SUBJECTS).format(n=n)
    reply = rng.random() < 0.3
    if reply:
        subject = "Re: " + subject

    headers: list[str] = []
    if msg.folder != "Sent":
        hop = rng.randrange(1, 250)
        headers += [
            f"Return-Path: <{sender[1]}>",
            (
                f"Received: from mx{hop}.{sender[1].split('@')[1]} "
                f"(mx{hop}.example [192.0.2.{hop}])"
                f"\r\n\tby mail.example.org (Postfix) with ESMTPS id {rng.getrandbits(40):010X}"
                f"\r\n\tfor <{USER[1]}>; {format_datetime(msg.internal_date)}"
            ),
            (
                f"Received: from [10.0.{hop}.{rng.randrange(1, 250)}] "
                f"(unknown [198.51.100.{hop}])"
                f"\r\n\tby mx{hop}.example (Postfix) with ESMTPSA id {rng.getrandbits(40):010X};"
                f"\r\n\t{format_datetime(sent)}"
            ),
        ]
        signature = base64.b64encode(rng.randbytes(192)).decode()
        headers.append(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d="
            + sender[1].split("@")[1]
            + "; s=sel1;\r\n\th=from:to:subject:date:message-id; bh="
            + base64.b64encode(rng.randbytes(32)).decode()
            + ";\r\n\tb="
            + "\r\n\t ".join(signature[i : i + 64] for i in range(0, len(signature), 64))
        )
    headers += [
        f"From: {_address(sender)}",
        "To: " + _fold([_address(p) for p in recipients]),
        f"Subject: {subject}",
        f"Date: {format_datetime(sent)}",
    ]
    if msg.message_id:
        headers.append(f"Message-ID: <{rng.getrandbits(64):016x}.{n}@{sender[1].split('@')[1]}>")
    if reply:
        refs = [f"<{rng.getrandbits(48):012x}@example.net>" for _ in range(rng.randrange(1, 6))]
        headers += [f"In-Reply-To: {refs[-1]}", "References: " + _fold(refs, "")]
    if msg.long_header:
        # One unfolded line of 900 characters, under RFC 5322's 998-character limit.
        value = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789=;") for _ in range(881))
        headers.append(f"X-Spam-Report: {value}")
    headers.append("MIME-Version: 1.0")

    head_size = sum(len(h) + 2 for h in headers) + 2
    body_size = max(200, msg.size - head_size)
    if msg.kind == "text":
        body = _text(rng, body_size - 60)
        headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    else:
        boundary = f"=_part_{rng.getrandbits(48):012x}"
        kind = "alternative" if msg.kind == "alternative" else "mixed"
        headers.append(f'Content-Type: multipart/{kind};\r\n\tboundary="{boundary}"')
        text_size = body_size // 2 - 300 if kind == "alternative" else rng.randrange(500, 3000)
        text = _text(rng, text_size)
        parts = [
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text
        ]
        if kind == "alternative":
            html = b"<html><body><p>" + text.replace(b"\r\n\r\n", b"</p>\r\n<p>") + b"</p>"
            parts.append(
                b"Content-Type: text/html; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: 8bit\r\n\r\n" + html + b"</body></html>\r\n"
            )
        else:
            name, mime = rng.choice(_ATTACHMENTS)
            if "%d" in name:
                name = name % n
            overhead = len(text) + 600
            parts.append(
                f'Content-Type: {mime};\r\n\tname="{name}"\r\n'
                f'Content-Disposition: attachment;\r\n\tfilename="{name}"\r\n'
                "Content-Transfer-Encoding: base64\r\n\r\n".encode()
                + _attachment(rng, body_size - overhead)
            )
        body = b"This is a multi-part message in MIME format.\r\n\r\n"
        for part in parts:
            body += f"--{boundary}\r\n".encode() + part + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
    head = "".join(h + "\r\n" for h in headers).encode("utf-8")
    return head + b"\r\n" + body
