"""Properties of the wire forms the copier writes and reads: flags, internal dates, FETCH.

Any flag a source might report, any internal date in any zone offset: what goes into an
APPEND must be valid IMAP to the letter (a BAD part way through a streamed MULTIAPPEND
would make the server read the following message lines as commands).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from imapcopy_tui.engine.wire import (
    SYSTEM_FLAGS,
    FetchedMessage,
    _read_response,
    _responses,
    format_internal_date,
    is_sendable_flag,
    parse_fetch,
    parse_internal_date,
)

# --- flags --------------------------------------------------------------------------------

ATOM = re.compile(r"[\x21-\x7e]+")
ATOM_SPECIALS = set('(){ %*"\\]')
SYSTEM = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\seen"]
flags = st.lists(st.one_of(st.sampled_from(SYSTEM + ["\\Recent", "\\Foo", "$Forwarded"]),
                           st.text(max_size=6)), max_size=6)


@given(flags)
@example(['a"b', "a{5}", "a)b", "a]b", "Café", "", "a b", "x\r\nA1 DELETE INBOX"])
def test_only_atoms_and_system_flags_are_sent(candidates: list[str]) -> None:
    """System flags are kept (``\\Recent`` and unknown ones are not: a server answers BAD);
    a keyword is kept only if it is an RFC 3501 atom, so the flag list a server parses is
    exactly the list sent: nothing in it can open a literal, close the list or end the
    line."""
    sent = [f for f in candidates if is_sendable_flag(f)]
    for flag in candidates:
        if flag.lower() in SYSTEM_FLAGS:
            assert flag in sent
    for flag in sent:
        body = flag.removeprefix("\\")
        assert ATOM.fullmatch(body) and not set(body) & ATOM_SPECIALS
        assert not flag.startswith("\\") or flag.lower() in SYSTEM_FLAGS
    wire = "(" + " ".join(sent) + ")"
    assert wire[1:-1].split() == sent and "\r" not in wire and "\n" not in wire


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E)))
def test_every_atom_keyword_is_sent(keyword: str) -> None:
    """A keyword made only of ATOM-CHARs is never dropped."""
    if keyword and not set(keyword) & ATOM_SPECIALS and not keyword.startswith("\\"):
        assert is_sendable_flag(keyword)


# --- internal dates -----------------------------------------------------------------------

DATE_TIME = re.compile(
    r"(?:[ 0-3]\d)-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4} "
    r"[0-2]\d:[0-5]\d:[0-6]\d [+-]\d{4}"
)
offsets = st.one_of(
    st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timedelta(minutes=m)),
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59, seconds=-59),
                  max_value=timedelta(hours=23, minutes=59, seconds=59)),
)
# A day short of datetime's ends, so that the same instant exists in every zone.
dates = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


@settings(max_examples=300)
@given(dates, offsets)
@example(datetime(1, 1, 2), timedelta(0))
@example(datetime(999, 12, 31, 23, 59, 59), timedelta(hours=-23, minutes=-59))
@example(datetime(2100, 12, 31, 23, 59, 59), timedelta(hours=5, minutes=30, seconds=15))
def test_internal_dates_go_out_in_imap_form_and_come_back_equal(
    wall: datetime, offset: timedelta
) -> None:
    """Any date, in any zone, is written as an RFC 3501 date-time (4-digit year, +hhmm zone)
    and read back as the same instant (to the second: IMAP has no fractions); the zone is
    kept when IMAP can write it (whole minutes)."""
    when = wall.replace(tzinfo=timezone(offset))
    text = format_internal_date(when)
    assert DATE_TIME.fullmatch(text), text
    back = parse_internal_date(text.encode())
    assert timedelta(0) <= when - back < timedelta(seconds=1)
    if offset % timedelta(minutes=1) == timedelta(0):
        assert back.utcoffset() == offset
    # And through the FETCH reader, as a server would quote it.
    fetched = parse_fetch([b'1 (UID 1 INTERNALDATE "%s")' % text.encode()])
    assert fetched[1].internal_date == back


def test_years_below_100_are_not_taken_for_two_digit_years() -> None:
    """``01-Jan-0001`` is year 1 (IMAPClient's parser read it as 2001); a day-of-month
    with a leading space is read too; a zone of a day or more gives the same instant."""
    assert parse_internal_date(b"01-Jan-0001 00:00:00 +0000") == datetime(1, 1, 1, tzinfo=UTC)
    assert parse_internal_date(b" 5-Mar-0099 10:00:00 -0130").year == 99
    assert parse_internal_date(b"01-Jan-2020 00:00:00 +9959") == datetime(
        2019, 12, 27, 20, 1, tzinfo=UTC
    )
    assert format_internal_date(datetime(999, 1, 1, tzinfo=UTC)) == "01-Jan-0999 00:00:00 +0000"


def test_a_zone_imap_cannot_write_is_written_in_utc_every_time() -> None:
    """Zones are remembered by how they are written; one with seconds in its offset is
    never remembered (it is written as the same instant in UTC, each time)."""
    odd = timezone(timedelta(hours=1, seconds=30))
    when = datetime(2021, 3, 4, 10, 11, 12, tzinfo=odd)
    assert format_internal_date(when) == format_internal_date(when) == "04-Mar-2021 09:10:42 +0000"
    usual = timezone(timedelta(hours=-5, minutes=-30))
    assert format_internal_date(when.replace(tzinfo=usual)) == "04-Mar-2021 10:11:12 -0530"
    assert format_internal_date(when.replace(tzinfo=usual)) == "04-Mar-2021 10:11:12 -0530"


# --- FETCH responses ------------------------------------------------------------------------

fetch_flags = st.lists(st.sampled_from(
    ["\\Seen", "\\Recent", "\\recent", "\\Flagged", "$Label1", "Junk", "\\Answered", "\\RECENT"]
), max_size=4)
fetch_dates = st.sampled_from([
    b"01-Feb-2020 09:00:00 +0000", b" 1-Feb-2020 09:00:00 +0100", b"31-Dec-1999 23:59:59 -0830",
    b"01-Jan-0001 00:00:00 +0000", b"07-Jul-2021 10:00:00 +9959", b"not a date",
])


@st.composite
def fetch_answers(draw: st.DrawFn) -> list[bytes | tuple[bytes, bytes]]:
    """FETCH answers as imaplib shapes them: Dovecot's usual ones, and variants of them
    (another item order, more items, a quoted or NIL body, a bare number, no UID)."""
    answer: list[bytes | tuple[bytes, bytes]] = []
    for number in range(1, draw(st.integers(1, 6)) + 1):
        uid = draw(st.sampled_from([number, number + 100, 7]))  # 7: a UID answered twice
        flags = b" ".join(f.encode() for f in draw(fetch_flags))
        date = draw(fetch_dates)
        size = draw(st.integers(0, 10**9))
        body = draw(st.binary(max_size=40))
        shape = draw(st.integers(0, 8))
        if shape == 0:
            answer += [(b"%d (UID %d BODY[] {%d}" % (number, uid, len(body)), body), b")"]
        elif shape == 1:
            answer.append(b'%d (UID %d FLAGS (%s) INTERNALDATE "%s" RFC822.SIZE %d)'
                          % (number, uid, flags, date, size))
        elif shape == 2:  # another order
            answer.append(b'%d (FLAGS (%s) UID %d RFC822.SIZE %d INTERNALDATE "%s")'
                          % (number, flags, uid, size, date))
        elif shape == 3:  # a header as well
            answer += [(b'%d (UID %d FLAGS (%s) INTERNALDATE "%s" RFC822.SIZE %d BODY[HEADER] {%d}'
                        % (number, uid, flags, date, size, len(body)), body), b")"]
        elif shape == 4:  # a body in a quoted string, or NIL
            answer.append(b'%d (UID %d BODY[] "a\\"b")' % (number, uid) if size % 2
                          else b"%d (UID %d BODY[HEADER] NIL)" % (number, uid))
        elif shape == 5:  # an unsolicited flag update, no UID
            answer.append(b"%d (FLAGS (%s))" % (number, flags))
        elif shape == 6:  # a body and the flags in one response
            answer += [(b"%d (UID %d BODY[] {%d}" % (number, uid, len(body)), body),
                       b" FLAGS (%s))" % flags]
        elif shape == 7:  # the usual metadata, one item short
            answer.append(b'%d (UID %d FLAGS (%s) INTERNALDATE "%s")' % (number, uid, flags, date))
        else:  # two literals in one response
            answer += [(b"%d (UID %d BODY[HEADER] {%d}" % (number, uid, len(body)), body),
                       (b" BODY[] {%d}" % len(body), body + b"!"), b")"]
    return answer


@settings(max_examples=400)
@given(fetch_answers())
def test_the_usual_answers_read_fast_read_as_any_answer(
    answer: list[bytes | tuple[bytes, bytes]],
) -> None:
    """parse_fetch reads Dovecot's usual answers in one match each; whatever it reads so
    must come out as the general reading of any response gives it."""
    general: dict[int, FetchedMessage] = {}
    for text, literals in _responses(answer):
        _read_response(text, literals, general)
    assert parse_fetch(answer) == general


def test_recent_is_never_read_as_a_flag_to_copy() -> None:
    """``\\Recent`` belongs to the server's session; it is left out, in any case."""
    answer: list[bytes | tuple[bytes, bytes]] = [
        b'1 (UID 5 FLAGS (\\Seen \\Recent $X) INTERNALDATE "01-Feb-2020 09:00:00 +0000" '
        b"RFC822.SIZE 20)",
        b"2 (FLAGS (\\RECENT \\recent Junk) UID 6)",
    ]
    fetched = parse_fetch(answer)
    assert fetched[5].flags == ("\\Seen", "$X") and fetched[6].flags == ("Junk",)
