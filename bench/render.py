"""The bytes of one planned message: headers as real mail has them, a body of about the
planned size.

Attachments are line-aligned slices of one seeded pool of base64 text, so that building
hundreds of megabytes costs memory copies, not random numbers (nothing in the chain
compresses or de-duplicates, so the repetition does not flatter anyone).
"""

from __future__ import annotations

import base64
import functools
import random
from datetime import timedelta
from email.header import Header
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.corpus import PlannedMessage

MB = 1000 * 1000
TEXT_SEED = 20250612  # the paragraphs to pick from
POOL_SEED = 20250613  # the base64 pool
USER = ("Bench User", "bench@example.org")
"""The mailbox owner: the sender of everything in Sent."""


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
    rng = random.Random(TEXT_SEED)
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
    """About 27 MB of base64 text in 76-character CRLF lines, always the same."""
    raw = random.Random(POOL_SEED).randbytes(20 * MB)
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
