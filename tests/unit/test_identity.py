"""The identity rule that decides whether a message is already on the destination."""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from imapcopy_tui.engine.identity import _normalised_crlf_header, fingerprint, header_section

HEADER = b"From: a@example.com\r\nMessage-ID: <1@x>\r\nSubject: hello\r\n\r\n"
MESSAGE = HEADER + b"body\r\n"


def test_same_header_and_size_is_the_same_message() -> None:
    """Identical header section and size give the same fingerprint."""
    assert fingerprint(HEADER, 100) == fingerprint(bytes(HEADER), 100)


def test_shared_message_id_with_other_subject_is_another_message() -> None:
    """Two messages sharing a Message-ID but not their headers are distinct."""
    other = HEADER.replace(b"hello", b"hello again")
    assert fingerprint(HEADER, 100) != fingerprint(other, 100 + 6)


def test_same_headers_other_size_is_another_message() -> None:
    """Same headers, different size: distinct."""
    assert fingerprint(HEADER, 100) != fingerprint(HEADER, 101)


def test_folding_and_trailing_blanks_do_not_matter() -> None:
    """Header folding and trailing spaces do not change identity."""
    folded = HEADER.replace(b"Subject: hello", b"Subject:\r\n hello  ")
    assert fingerprint(folded, 100) == fingerprint(HEADER, 100)


def test_mbsync_x_tuid_is_ignored() -> None:
    """A copy made earlier by mbsync (which adds X-TUID, growing the size) is recognised."""
    tuid = b"X-TUID: abcdefgh1234\r\n"
    assert fingerprint(tuid + HEADER, 100 + len(tuid)) == fingerprint(HEADER, 100)
    folded_tuid = b"X-TUID: abc\r\n def\r\n"
    assert fingerprint(HEADER[:21] + folded_tuid + HEADER[21:], 100 + len(folded_tuid)) == (
        fingerprint(HEADER, 100)
    )


@pytest.mark.parametrize(
    ("message", "server_header"),
    [
        (MESSAGE, HEADER),
        (b"Subject: no body\r\n", b"Subject: no body\r\n"),
        (b"Subject: no body\r\n", b"Subject: no body\r\n\r\n"),
        (b"Subject: lf\n\nbody\n", b"Subject: lf\n\n"),
        (b"\r\nbody without header\r\n", b"\r\n"),
    ],
    ids=["normal", "no-blank-line", "no-blank-line-server-adds-one", "bare-lf", "no-header"],
)
def test_cut_header_matches_body_peek_header(message: bytes, server_header: bytes) -> None:
    """The header cut from the whole message and the server's BODY[HEADER] give one
    fingerprint, so mail copied without a header fetch is recognised on a later run."""
    size = len(message)
    assert fingerprint(header_section(message), size) == fingerprint(server_header, size)


# The rule written the plain way (a loop over the lines, one regular expression for the
# blank line), as it was before the fast paths: the fast paths must agree with it on
# every input, or mail copied by an earlier version would no longer be recognised.
def _reference_header_section(message: bytes) -> bytes:
    for empty_header in (b"\r\n", b"\n"):
        if message.startswith(empty_header):
            return empty_header
    end = re.search(rb"\r?\n\r?\n", message)
    return message if end is None else message[: end.end()]


def _reference_fingerprint(header: bytes, total_size: int) -> str:
    lines: list[bytes] = []
    ignored_bytes = 0
    ignoring = False
    for raw in header.splitlines(keepends=True):
        line = raw.rstrip(b"\r\n").rstrip(b" \t")
        if raw[:1] in (b" ", b"\t") and (lines or ignoring):
            if ignoring:
                ignored_bytes += len(raw)
            elif line.strip():
                lines[-1] += b" " + line.strip()
            continue
        ignoring = bool(re.match(rb"^x-tuid:", line, re.IGNORECASE))
        if ignoring:
            ignored_bytes += len(raw)
        elif line:
            lines.append(line)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line + b"\n")
    digest.update(b"size:%d" % (total_size - ignored_bytes))
    return digest.hexdigest()[:32]


WORDS = [b"Subject:", b"From:", b"X-TUIDs:", b"<a@b>", b"x", b":", b"\xe9", b"\x00", b"x-tuid"]
LINE_BREAKS = [b"\r\n", b"\r\n", b"\r\n ", b"\r\n\t", b"\r\n \t "]  # some fold
ODD_PIECES = [b" ", b"\t", b"\r\n", b"\r", b"\n", b"\x0b", b"\x0c", b"X-TUID: 7", b"x-tuid:"]


def _random_header(generator: random.Random, *, odd: bool) -> bytes:
    """Words, single spaces and line breaks (some folding) as in most mail; or with ``odd``,
    anything from that and odd pieces: blanks anywhere, bare CR or LF, X-TUID lines."""
    if odd:
        pieces = WORDS + LINE_BREAKS + ODD_PIECES
        return b"".join(generator.choice(pieces) for _ in range(generator.randint(0, 30)))
    header = b"Received:"
    for _ in range(generator.randint(0, 30)):
        header += generator.choice((b" ", *LINE_BREAKS)) + generator.choice(WORDS)
    return header + generator.choice((b"", b"\r\n", b"\r\n\r\n"))


def test_fast_paths_agree_with_the_plain_rule() -> None:
    """On 10,000 random headers (CRLF, bare CR or LF, folds, blanks, X-TUID, odd bytes),
    and on the same headers with a body after them."""
    generator = random.Random(20261122)
    fast = 0
    for case in range(10_000):
        header = _random_header(generator, odd=case % 2 == 1)
        size = len(header) + generator.randint(0, 50)
        assert fingerprint(header, size) == _reference_fingerprint(header, size), header
        message = header + _random_header(generator, odd=True)
        assert header_section(message) == _reference_header_section(message), message
        fast += _normalised_crlf_header(header) is not None
    assert fast > 4_000  # the fast path itself was exercised, not only the fallback


def test_usual_header_fingerprint_is_unchanged() -> None:
    """A fingerprint recorded by an earlier version (this value) still matches."""
    assert fingerprint(HEADER, 100) == _reference_fingerprint(HEADER, 100)
    folded = b"Subject: a\r\n\tb  \r\n   \r\n c\r\nTo: d\r\n\r\n"
    assert fingerprint(folded, 9) == _reference_fingerprint(folded, 9)
