"""The wire forms the copier reads and writes: UID FETCH responses, internal dates, flags.

IMAPClient's general parser tokenises every response in Python, which costs more CPU than
the copy itself on large mailboxes.  imaplib already splits responses into lines and
literals; here the non-literal text is searched with a few regular expressions.  Anything
unexpected is left out, so the caller sees a missing item (and checks whether the message
still exists) rather than a wrong one.

What goes back out must be valid IMAP to the letter: an APPEND streams its messages as
non-synchronising literals, and a server that answers BAD part way through reads the rest
of the stream (message lines) as commands.  So internal dates are written here in the exact
``date-time`` form, and only flags that are atoms are sent (:func:`is_sendable_flag`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from imapclient.datetime_util import parse_to_datetime

_START = re.compile(rb"^(\d+) \(")
_UID = re.compile(rb"[( ]UID (\d+)")
_SIZE = re.compile(rb"[( ]RFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"[( ]FLAGS \(([^)]*)\)")
_DATE = re.compile(rb'[( ]INTERNALDATE "([^"]+)"')
_LITERAL = re.compile(rb"[( ](BODY\[(?:HEADER)?\]) \{\d+\}\x00(\d+)\x00")
_NIL_BODY = re.compile(rb"[( ](BODY\[(?:HEADER)?\]) NIL")
_QUOTED_BODY = re.compile(rb'[( ](BODY\[(?:HEADER)?\]) "((?:[^"\\]|\\.)*)"')
# Dovecot's (and most servers') answer to ``UID FETCH (BODY.PEEK[])``, as _responses gives
# it (the literal's index between NULs), and to ``UID FETCH (FLAGS INTERNALDATE RFC822.SIZE)``.
_USUAL_BODY = re.compile(rb"\d+ \(UID (\d+) BODY\[\] \{\d+\}\x00(\d+)\x00\)")
_USUAL_METADATA = re.compile(
    rb'\d+ \(UID (\d+) FLAGS \(([^)]*)\) INTERNALDATE "([^"]+)" RFC822\.SIZE (\d+)\)'
)
# RFC 3501 date-time, without its quotes: day (space-padded or two digits), month, 4-digit
# year, time and a +hhmm zone.
_DATE_TIME = re.compile(
    rb"^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBERS = {name.lower().encode(): number for number, name in enumerate(_MONTHS, 1)}
# The zones met so far, by their sign, hours and minutes as written: one object each.
_ZONES: dict[tuple[bytes, bytes, bytes], timezone] = {}
SYSTEM_FLAGS = frozenset({"\\answered", "\\flagged", "\\deleted", "\\seen", "\\draft"})
"""The system flags APPEND may carry (RFC 3501; ``\\Recent`` is the server's own), lower case."""
# RFC 3501 ATOM-CHAR: printable ASCII but the atom-specials ( ) { % * " \ ] and space.
_ATOM = re.compile(r"[!#$&'+-\[^-z|}~]+")


@dataclass(slots=True)
class FetchedMessage:
    """The items of one message that the copier uses (absent ones stay None)."""

    uid: int
    size: int | None = None
    flags: tuple[str, ...] | None = None
    internal_date: datetime | None = None
    body: bytes | None = None  # BODY[]
    header: bytes | None = None  # BODY[HEADER]


def _responses(data: list[bytes | tuple[bytes, bytes]]) -> list[tuple[bytes, list[bytes]]]:
    """Group imaplib's pieces into responses: text with literal markers, and the literals."""
    grouped: list[tuple[bytes, list[bytes]]] = []
    text: list[bytes] = []
    literals: list[bytes] = []
    for piece in data:
        line = piece[0] if isinstance(piece, tuple) else piece
        if line is None:
            continue
        if _START.match(line) and text:
            grouped.append((b"".join(text), literals))
            text, literals = [], []
        if isinstance(piece, tuple):
            # Mark where the literal was, by its index, so the item before it can be found.
            text.append(line + b"\x00%d\x00" % len(literals))
            literals.append(piece[1])
        else:
            text.append(line)
    if text:
        grouped.append((b"".join(text), literals))
    return grouped


def parse_fetch(data: list[bytes | tuple[bytes, bytes]]) -> dict[int, FetchedMessage]:
    """The messages of a UID FETCH answer by UID; responses without a UID are ignored
    (unsolicited flag updates)."""
    found: dict[int, FetchedMessage] = {}
    for text, literals in _responses(data):
        # The two usual answers to the copier's own requests, in one match each; anything
        # else (another order, more items, quoted bodies) takes the general reading.
        if (usual := _USUAL_BODY.fullmatch(text)) is not None:
            uid, literal = usual.groups()
            _message(found, int(uid)).body = literals[int(literal)]
        elif (usual := _USUAL_METADATA.fullmatch(text)) is not None:
            uid, flags, date, size = usual.groups()
            message = _message(found, int(uid))
            message.flags = _flag_names(flags)
            message.internal_date = _internal_date_or_none(date)
            message.size = int(size)
        else:
            _read_response(text, literals, found)
    return found


def _message(found: dict[int, FetchedMessage], uid: int) -> FetchedMessage:
    message = found.get(uid)
    if message is None:
        message = found[uid] = FetchedMessage(uid)
    return message


def _flag_names(raw: bytes) -> tuple[str, ...]:
    """The flags of a FLAGS item, without ``\\Recent`` (the server's own, never copied)."""
    names = raw.decode("utf-8", "replace").split()
    if b"\\R" in raw or b"\\r" in raw:
        return tuple(name for name in names if name.lower() != "\\recent")
    return tuple(names)


def _internal_date_or_none(raw: bytes) -> datetime | None:
    try:
        return parse_internal_date(raw)
    except ValueError:
        return None


def _read_response(
    text: bytes, literals: list[bytes], found: dict[int, FetchedMessage]
) -> None:
    """One FETCH response, whatever the order of its items, into ``found``."""
    uid = _UID.search(text)
    if uid is None:
        return
    message = _message(found, int(uid.group(1)))
    if size := _SIZE.search(text):
        message.size = int(size.group(1))
    if flags := _FLAGS.search(text):
        message.flags = _flag_names(flags.group(1))
    if date := _DATE.search(text):
        message.internal_date = _internal_date_or_none(date.group(1))
    if b"BODY[" not in text:
        return  # metadata only: the three searches below would find nothing
    for item in _LITERAL.finditer(text):
        value = literals[int(item.group(2))]
        if item.group(1) == b"BODY[]":
            message.body = value
        else:
            message.header = value
    for item in _QUOTED_BODY.finditer(text):  # small values may come as quoted strings
        value = re.sub(rb"\\(.)", rb"\1", item.group(2))
        if item.group(1) == b"BODY[]":
            message.body = value
        else:
            message.header = value
    for item in _NIL_BODY.finditer(text):
        if item.group(1) == b"BODY[HEADER]":
            message.header = b""


def parse_internal_date(raw: bytes) -> datetime:
    """An INTERNALDATE (RFC 3501 ``date-time``) as an aware datetime, in its own zone.

    Read to the letter rather than by IMAPClient's parser, which takes a year below 100 for
    a two-digit one (``01-Jan-0001`` came back as 2001).  Another form some server sends is
    left to IMAPClient.  A zone of a day or more (``+9959``; Dovecot takes it in APPEND)
    cannot be kept and gives the same instant in UTC.  Raises ``ValueError`` when unreadable.
    """
    match = _DATE_TIME.match(raw)
    if match is None:
        parsed: datetime = parse_to_datetime(raw, normalise=False)
        return parsed
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    number = _MONTH_NUMBERS.get(month.lower())
    if number is None:
        raise ValueError(f"unknown month in {raw!r}")
    zone_key = (sign, zone_hours, zone_minutes)
    zone = _ZONES.get(zone_key)
    if zone is not None:
        return datetime(
            int(year), number, int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
    offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
    offset = -offset if sign == b"-" else offset
    wall = datetime(int(year), number, int(day), int(hour), int(minute), int(second))
    if abs(offset) < timedelta(days=1):
        zone = timezone(offset)
        if len(_ZONES) < 1000:  # real zones are few; a hostile server's are not kept
            _ZONES[zone_key] = zone
        return wall.replace(tzinfo=zone)
    try:
        return (wall - offset).replace(tzinfo=UTC)
    except OverflowError as exc:  # before year 1 or after 9999
        raise ValueError(f"internal date out of range: {raw!r}") from exc


def format_internal_date(when: datetime) -> str:
    """``when`` as an RFC 3501 ``date-time`` (without the quotes), for APPEND.

    The year always has four digits (``strftime`` writes ``999`` for 999, which servers
    refuse).  An offset IMAP cannot write (seconds in it) gives the same instant in UTC;
    microseconds are dropped.  A naive datetime is taken as local time.
    """
    if when.tzinfo is None:
        when = when.astimezone()
    zone = _ZONE_TEXTS.get(when.tzinfo) if type(when.tzinfo) is timezone else None
    if zone is None:
        offset = when.utcoffset() or timedelta(0)
        if offset % timedelta(minutes=1):
            return format_internal_date(when.astimezone(UTC))
        minutes = int(offset.total_seconds()) // 60
        hours, minutes = divmod(abs(minutes), 60)
        zone = f"{'-' if offset < timedelta(0) else '+'}{hours:02d}{minutes:02d}"
        if type(when.tzinfo) is timezone and len(_ZONE_TEXTS) < 1000:
            _ZONE_TEXTS[when.tzinfo] = zone  # a fixed offset: always written the same
    return (
        f"{when.day:02d}-{_MONTHS[when.month - 1]}-{when.year:04d} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {zone}"
    )


# How each fixed-offset zone met so far is written (a mailbox has few zones).
_ZONE_TEXTS: dict[tzinfo, str] = {}


def is_sendable_flag(flag: str) -> bool:
    """Whether APPEND can carry ``flag``: a system flag of RFC 3501, or a keyword that is an
    atom.  A server answers BAD to anything else (``\\Recent``, ``\\Foo``, ``a"b``, 8-bit),
    and one BAD in a streamed MULTIAPPEND would turn the messages after it into commands."""
    if flag.startswith("\\"):
        return flag.lower() in SYSTEM_FLAGS
    return _ATOM.fullmatch(flag) is not None
