"""A reproducible, varied mailbox to copy, and helpers to read a mailbox back.

:func:`fill_source` creates folders and appends messages over real IMAP, then returns a
:class:`Corpus` saying exactly what it put there.  :func:`read_folder` and
:func:`list_folder_names` read any server back in the same terms, so a test can compare a
source, a destination and the corpus with ``==``.

Folder paths are tuples of parts relative to the namespace prefix (``("Archive", "2019")``)
so one corpus describes both a ``/``-separated server and a ``.``-separated one with an
``INBOX.`` prefix; :meth:`Corpus.name` gives the name on the server.  ``("INBOX",)`` is the
inbox on both.

Everything is seeded: two runs append byte-identical messages with the same flags and
internal dates.  Messages use CRLF line ends, as they are on the wire.
"""

from __future__ import annotations

import base64
import functools
import random
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imapclient import IMAPClient

FolderPath = tuple[str, ...]
INBOX: FolderPath = ("INBOX",)

SEED = 20240917
LARGE_ATTACHMENT_BYTES = 2_400_000  # about 3.3 MB once base64-encoded


@dataclass(frozen=True)
class MessageRecord:
    """One message as appended or as read back.

    ``uid`` is informative only: it takes no part in ``==``, since a copy gets new UIDs.
    ``internal_date`` is timezone-aware and compares by instant (Dovecot answers in its own
    zone, not the one the message was appended with).
    """

    raw: bytes
    flags: tuple[str, ...]
    internal_date: datetime
    size: int
    uid: int | None = field(default=None, compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (unfolded, undecoded), or None."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        unfolded = re.sub(r"\r\n[ \t]+", " ", head)
        for line in unfolded.split("\r\n"):
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == name.lower():
                return value.strip()
        return None


@dataclass(frozen=True)
class Corpus:
    """What :func:`fill_source` created on one server.

    ``folders`` are the folders it created, parents first (the inbox is not among them).
    ``messages`` has an entry for the inbox and for every created folder, empty ones
    included, in append (hence UID) order.  ``landmarks`` names the special cases:
    ``large``, ``no_message_id``, ``same_message_id``, ``exact_duplicates``, ``eight_bit``,
    each as (folder, indexes into that folder's messages).
    """

    separator: str
    prefix: str
    folders: tuple[FolderPath, ...]
    messages: dict[FolderPath, tuple[MessageRecord, ...]]
    landmarks: dict[str, tuple[FolderPath, tuple[int, ...]]]

    def name(self, path: FolderPath) -> str:
        """The folder's name on this corpus's server."""
        return imap_name(path, self.separator, self.prefix)

    def names(self) -> set[str]:
        """Every folder name the server should list: the inbox and the created folders."""
        return {self.name(path) for path in self.messages}

    def landmark(self, key: str) -> list[MessageRecord]:
        """The messages of one special case (see the class docstring)."""
        path, indexes = self.landmarks[key]
        return [self.messages[path][i] for i in indexes]

    @property
    def message_count(self) -> int:
        """How many messages were appended in all."""
        return sum(len(records) for records in self.messages.values())


def imap_name(path: FolderPath, separator: str, prefix: str) -> str:
    """The server name of ``path`` under a namespace (``("A", "B")`` → ``INBOX.A.B``)."""
    if path == INBOX:
        return "INBOX"
    for part in path:
        if separator in part:
            raise ValueError(f"folder part {part!r} contains the separator {separator!r}")
    return prefix + separator.join(path)


def folder_path(name: str, separator: str, prefix: str) -> FolderPath:
    """Inverse of :func:`imap_name`: a server name as parts relative to the prefix."""
    if name.upper() == "INBOX":
        return INBOX
    if prefix and name.startswith(prefix):
        name = name[len(prefix) :]
    return tuple(name.split(separator))


# --- reading back -----------------------------------------------------------------------


def read_folder(client: IMAPClient, name: str) -> list[MessageRecord]:
    """EXAMINE ``name`` and return its messages in UID order (read-only: no flag changes).

    Flags exclude ``\\Recent`` and are sorted; the internal date is timezone-aware.
    """
    saved = client.normalise_times
    client.normalise_times = False
    try:
        selected = client.select_folder(name, readonly=True)
        if not selected.get(b"EXISTS"):
            return []
        uids = client.search("ALL")
        fetched = client.fetch(uids, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE", "RFC822.SIZE"])
    finally:
        client.normalise_times = saved
    return [
        MessageRecord(
            raw=bytes(data[b"BODY[]"]),
            flags=_normal_flags(data[b"FLAGS"]),
            internal_date=data[b"INTERNALDATE"],
            size=int(data[b"RFC822.SIZE"]),
            uid=uid,
        )
        for uid, data in sorted(fetched.items())
    ]


def list_folder_names(client: IMAPClient) -> set[str]:
    """Every folder name the server lists (``LIST "" "*"``), decoded from modified UTF-7."""
    return {_text(name) for _flags, _delimiter, name in client.list_folders()}


def _normal_flags(flags: Iterable[bytes | str]) -> tuple[str, ...]:
    return tuple(sorted(f for f in map(_text, flags) if f.lower() != "\\recent"))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


# --- filling ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    raw: bytes
    flags: tuple[str, ...]
    internal_date: datetime


def fill_source(client: IMAPClient, separator: str, prefix: str) -> Corpus:
    """Create the corpus folders and append its messages through ``client``.

    ``separator`` and ``prefix`` must be the server's (checked against NAMESPACE). The
    logged-in user should be fresh: the corpus describes only what it adds.
    """
    _check_namespace(client, separator, prefix)
    plan = _plan()
    folders = tuple(path for path in plan.folders if path != INBOX)
    for path in folders:
        client.create_folder(imap_name(path, separator, prefix))
    messages: dict[FolderPath, tuple[MessageRecord, ...]] = {}
    for path in plan.folders:
        name = imap_name(path, separator, prefix)
        records = []
        for planned in plan.messages.get(path, ()):
            reply = client.append(name, planned.raw, planned.flags, planned.internal_date)
            records.append(
                MessageRecord(
                    raw=planned.raw,
                    flags=planned.flags,
                    internal_date=planned.internal_date,
                    size=len(planned.raw),
                    uid=_append_uid(reply),
                )
            )
        messages[path] = tuple(records)
    return Corpus(separator, prefix, folders, messages, dict(plan.landmarks))


def _check_namespace(client: IMAPClient, separator: str, prefix: str) -> None:
    personal = client.namespace().personal
    if not personal:
        return
    got_prefix, got_separator = (_text(part) for part in personal[0])
    if (got_prefix, got_separator) != (prefix, separator):
        raise ValueError(
            f"server namespace is prefix={got_prefix!r} separator={got_separator!r}, "
            f"not prefix={prefix!r} separator={separator!r}"
        )


def _append_uid(reply: bytes | str) -> int | None:
    match = re.search(r"\[APPENDUID \d+ (\d+)\]", _text(reply))
    return int(match.group(1)) if match else None


# --- the content --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    folders: tuple[FolderPath, ...]
    messages: dict[FolderPath, tuple[_Planned, ...]]
    landmarks: dict[str, tuple[FolderPath, tuple[int, ...]]]


ARCHIVE: FolderPath = ("Archive",)
ARCHIVE_2019: FolderPath = ("Archive", "2019")
ARCHIVE_Q1: FolderPath = ("Archive", "2019", "Q1")
EMPTY: FolderPath = ("Empty",)
PROJECTS: FolderPath = ("Projects",)
PROJECTS_EMPTY: FolderPath = ("Projects", "Empty child")
DONNEES: FolderPath = ("Données",)
OTCHETY: FolderPath = ("Отчёты",)
NIHONGO: FolderPath = ("日本語",)
OLD_MAIL: FolderPath = ("Old Mail Box",)
AMPERSAND: FolderPath = ("R&D",)

FOLDERS: tuple[FolderPath, ...] = (
    INBOX,
    ARCHIVE,
    ARCHIVE_2019,
    ARCHIVE_Q1,
    EMPTY,
    PROJECTS,
    PROJECTS_EMPTY,
    DONNEES,
    OTCHETY,
    NIHONGO,
    OLD_MAIL,
    AMPERSAND,
)
"""Every folder of the corpus, parents before children (``Projects`` is created too, so
no folder is a ``\\Noselect`` placeholder)."""

_PEOPLE = (
    ("Alice Martin", "alice@example.org"),
    ("Bob Durand", "bob@example.net"),
    ("Carol Nguyen", "carol@example.com"),
    ("Dmitri Ivanov", "dmitri@example.ru"),
    ("Eve Tanaka", "eve@example.jp"),
    ("Frank Müller", "frank@example.de"),
)

_ZONES = {
    "CET": timezone(timedelta(hours=1)),
    "CEST": timezone(timedelta(hours=2)),
    "EST": timezone(timedelta(hours=-5)),
    "PST": timezone(timedelta(hours=-8)),
    "IST": timezone(timedelta(hours=5, minutes=30)),
    "JST": timezone(timedelta(hours=9)),
    "UTC": UTC,
}


class _Builder:
    """Makes messages from one seeded random stream, so the corpus never changes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def message_id(self) -> str:
        return f"<{self.rng.getrandbits(64):016x}.{self.rng.randrange(10**6)}@mail.example.org>"

    def boundary(self) -> str:
        return f"=_part_{self.rng.getrandbits(48):012x}"

    def when(self, year: int, month: int, day: int, hour: int, zone: str) -> datetime:
        minute, second = self.rng.randrange(60), self.rng.randrange(60)
        return datetime(year, month, day, hour, minute, second, tzinfo=_ZONES[zone])

    def message(
        self,
        *,
        sender: int,
        recipient: int,
        subject: str,
        body: str | bytes,
        sent: datetime,
        flags: Sequence[str] = (),
        message_id: str | None = "",
        attachment: tuple[str, str, bytes] | None = None,
        alternative_html: bool = False,
        transfer_encoding: str = "7bit",
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> _Planned:
        """One message; ``message_id=""`` makes a fresh one, ``None`` leaves it out."""
        headers = [
            ("From", _address(*_PEOPLE[sender])),
            ("To", _address(*_PEOPLE[recipient])),
            ("Subject", _header_text(subject)),
            ("Date", format_datetime(sent)),
        ]
        if message_id == "":
            message_id = self.message_id()
        if message_id is not None:
            headers.append(("Message-ID", message_id))
        headers += list(extra_headers)
        headers.append(("MIME-Version", "1.0"))
        text = body if isinstance(body, bytes) else _crlf(body)
        text_type = "text/plain; charset=utf-8"
        if attachment is None and not alternative_html:
            headers += [
                ("Content-Type", text_type),
                ("Content-Transfer-Encoding", transfer_encoding),
            ]
            payload = text
        else:
            boundary = self.boundary()
            kind = "alternative" if alternative_html else "mixed"
            headers.append(("Content-Type", f'multipart/{kind}; boundary="{boundary}"'))
            text_headers = [
                ("Content-Type", text_type),
                ("Content-Transfer-Encoding", transfer_encoding),
            ]
            parts = [_part(text_headers, text)]
            if alternative_html:
                html = b"<html><body><p>%s</p></body></html>\r\n" % text.replace(
                    b"\r\n", b"<br>\r\n"
                )
                parts.append(
                    _part(
                        [
                            ("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Transfer-Encoding", "7bit"),
                        ],
                        html,
                    )
                )
            if attachment is not None:
                filename, mime_type, data = attachment
                parts.append(
                    _part(
                        [
                            ("Content-Type", f'{mime_type}; name="{filename}"'),
                            ("Content-Disposition", f'attachment; filename="{filename}"'),
                            ("Content-Transfer-Encoding", "base64"),
                        ],
                        _base64_lines(data),
                    )
                )
            payload = b"This is a multi-part message in MIME format.\r\n\r\n"
            for part in parts:
                payload += f"--{boundary}\r\n".encode() + part + b"\r\n"
            payload += f"--{boundary}--\r\n".encode()
        head = b"".join(f"{key}: {value}\r\n".encode() for key, value in headers)
        # Delivered a few minutes after it was written, in the sender's zone.
        delay = timedelta(minutes=self.rng.randrange(1, 30), seconds=self.rng.randrange(60))
        received = sent + delay
        return _Planned(head + b"\r\n" + payload, tuple(sorted(flags)), received)


def _address(name: str, email: str) -> str:
    return f"{_header_text(name)} <{email}>"


def _header_text(text: str) -> str:
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def _base64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _part(headers: Sequence[tuple[str, str]], payload: bytes) -> bytes:
    head = b"".join(f"{key}: {value}\r\n".encode() for key, value in headers)
    return head + b"\r\n" + payload


_LOREM = (
    "Thanks for the update. I had a look at the figures and they match what we saw last "
    "quarter, apart from the shipping costs which went up again.",
    "Can we move the meeting to Thursday? Tuesday is full of interviews on my side.",
    "Attached is the summary we discussed. Let me know if anything is missing before I "
    "send it to the wider team.",
    "Reminder: the office is closed on Monday for maintenance of the heating system.",
    "I fixed the build on the release branch; the flaky test was depending on the time "
    "zone of the machine.",
)


def _paragraphs(builder: _Builder, count: int) -> str:
    chosen = [textwrap.fill(builder.rng.choice(_LOREM), 72) for _ in range(count)]
    return "Hello,\n\n" + "\n\n".join(chosen) + "\n\nBest regards\n"


@functools.lru_cache(maxsize=1)
def _plan() -> _Plan:
    """Build every message once per process (the large one takes a few milliseconds)."""
    b = _Builder(SEED)
    msgs: dict[FolderPath, list[_Planned]] = {path: [] for path in FOLDERS}
    landmarks: dict[str, tuple[FolderPath, tuple[int, ...]]] = {}

    inbox_flags: list[tuple[str, ...]] = [
        ("\\Seen",),
        ("\\Seen", "\\Answered"),
        ("\\Seen", "\\Flagged"),
        (),
        ("\\Seen", "$Forwarded"),
        ("\\Seen",),
        ("\\Draft",),
        ("$Junk",),
        ("\\Seen", "ProjectX"),
        ("\\Seen", "\\Flagged", "$Forwarded", "ProjectX"),
    ]
    inbox_subjects = (
        "Quarterly figures",
        "Re: Meeting on Tuesday",
        "Invoice 2023-0412",
        "Office closed on Monday",
        "Fwd: Release notes",
        "Newsletter: spring edition",
        "Draft: proposal for the new supplier",
        "You have WON a prize!!!",
        "ProjectX kickoff notes",
        "Re: Build broken on release branch",
    )
    zones = ("CET", "CEST", "EST", "UTC", "JST", "PST", "IST", "CEST", "CET", "UTC")
    inbox = zip(inbox_subjects, inbox_flags, zones, strict=False)
    for i, (subject, flags, zone) in enumerate(inbox):
        sent = b.when(2023, 1 + i, 3 + i, 8 + i, zone)
        attachment = None
        if i in (2, 8):
            attachment = (f"document-{i}.pdf", "application/pdf", b.rng.randbytes(1800 + 300 * i))
        msgs[INBOX].append(
            b.message(
                sender=i % len(_PEOPLE),
                recipient=(i + 1) % len(_PEOPLE),
                subject=subject,
                body=_paragraphs(b, 1 + i % 3),
                sent=sent,
                flags=flags,
                attachment=attachment,
                alternative_html=i == 5,
            )
        )

    msgs[ARCHIVE] += [
        b.message(
            sender=1, recipient=0, subject="Holiday plans 2009", body=_paragraphs(b, 2),
            sent=b.when(2009, 7, 14, 18, "EST"), flags=("\\Seen",),
        ),
        b.message(
            sender=2, recipient=0, subject="Contract renewal", body=_paragraphs(b, 3),
            sent=b.when(2015, 6, 2, 10, "CEST"), flags=("\\Seen", "\\Answered"),
            attachment=("contract.odt", "application/vnd.oasis.opendocument.text",
                        b.rng.randbytes(4000)),
        ),
    ]  # fmt: skip

    # An exact duplicate pair: same bytes, flags and internal date.
    twin = b.message(
        sender=3, recipient=0, subject="Server migration checklist", body=_paragraphs(b, 2),
        sent=b.when(2019, 3, 11, 9, "CET"), flags=("\\Seen", "\\Flagged"),
    )  # fmt: skip
    msgs[ARCHIVE_2019] += [
        b.message(
            sender=4, recipient=0, subject="Conference travel", body=_paragraphs(b, 1),
            sent=b.when(2019, 2, 20, 14, "JST"), flags=("\\Seen",),
        ),
        twin,
        twin,
    ]  # fmt: skip
    landmarks["exact_duplicates"] = (ARCHIVE_2019, (1, 2))

    # Two different messages that share one Message-ID (a broken mailer does this).
    shared_id = b.message_id()
    msgs[ARCHIVE_Q1] += [
        b.message(
            sender=5, recipient=0, subject="Budget Q1 (first version)",
            body=_paragraphs(b, 1), sent=b.when(2019, 1, 15, 11, "CET"),
            flags=("\\Seen",), message_id=shared_id,
        ),
        b.message(
            sender=5, recipient=0, subject="Budget Q1 (corrected)",
            body=_paragraphs(b, 2), sent=b.when(2019, 1, 16, 16, "CET"),
            flags=("\\Seen", "ProjectX"), message_id=shared_id,
        ),
    ]  # fmt: skip
    landmarks["same_message_id"] = (ARCHIVE_Q1, (0, 1))

    msgs[DONNEES] += [
        b.message(
            sender=5, recipient=0, subject="Réunion de l'équipe à Genève",
            body=_crlf(
                "Bonjour,\n\nLa réunion aura lieu à 14 h, salle « Léman ».\n\n"
                "À bientôt,\nFrançois\n"
            ),
            sent=b.when(2015, 9, 21, 9, "CEST"), flags=("\\Seen", "$Forwarded"),
            transfer_encoding="8bit",
        ),
        b.message(
            sender=0, recipient=5, subject="Données du trimestre",
            body=_paragraphs(b, 1), sent=b.when(2015, 11, 3, 17, "CET"),
            flags=("ProjectX",),
        ),
    ]  # fmt: skip
    landmarks["eight_bit"] = (DONNEES, (0,))

    msgs[OTCHETY] += [
        b.message(
            sender=3, recipient=1, subject="Отчёт за март",
            body=_crlf("Добрый день!\n\nОтчёт во вложении.\n\nС уважением,\nДмитрий\n"),
            sent=b.when(2021, 4, 1, 12, "UTC"), flags=("\\Seen", "\\Answered"),
            transfer_encoding="8bit",
            attachment=("отчёт.csv", "text/csv", "месяц;сумма\r\nмарт;1200\r\n".encode()),
        ),
    ]  # fmt: skip

    msgs[NIHONGO] += [
        b.message(
            sender=4, recipient=2, subject="会議の議事録",
            body=_crlf("お疲れ様です。\n\n議事録を送ります。\n\nよろしくお願いします。\n"),
            sent=b.when(2022, 5, 10, 10, "JST"), flags=("\\Seen",),
            transfer_encoding="8bit",
        ),
        b.message(
            sender=2, recipient=4, subject="Re: 会議の議事録",
            body=_paragraphs(b, 1), sent=b.when(2022, 5, 10, 11, "PST"),
            flags=("\\Flagged",),
        ),
    ]  # fmt: skip

    large = b.rng.randbytes(LARGE_ATTACHMENT_BYTES)
    msgs[OLD_MAIL] += [
        b.message(
            sender=1, recipient=2, subject="Photos from the trip (large)",
            body=_paragraphs(b, 1), sent=b.when(2015, 8, 30, 20, "EST"),
            flags=("\\Seen",), attachment=("photos.tar", "application/x-tar", large),
        ),
        b.message(
            sender=2, recipient=1, subject="Old note without a Message-ID",
            body=_paragraphs(b, 1), sent=b.when(2009, 2, 12, 7, "IST"),
            flags=("\\Seen", "$Junk"), message_id=None,
        ),
    ]  # fmt: skip
    landmarks["large"] = (OLD_MAIL, (0,))
    landmarks["no_message_id"] = (OLD_MAIL, (1,))

    msgs[AMPERSAND] += [
        b.message(
            sender=0, recipient=3, subject="R&D roadmap", body=_paragraphs(b, 2),
            sent=b.when(2020, 10, 5, 15, "CEST"), flags=(),
        ),
    ]  # fmt: skip

    return _Plan(FOLDERS, {path: tuple(items) for path, items in msgs.items()}, landmarks)


def corpus_summary(corpus: Corpus) -> dict[str, int]:
    """A small readable digest (folder name → message count), for assertion messages."""
    return {corpus.name(path): len(records) for path, records in corpus.messages.items()}
