"""The identity rule that decides whether a message is already on the destination."""

from __future__ import annotations

import pytest

from imapcopy_tui.engine.identity import fingerprint, header_section

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
