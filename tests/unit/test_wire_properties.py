"""Properties of the wire forms the copier writes and reads: flags and internal dates.

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
