"""The identity rule that decides whether a message is already on the destination."""

from __future__ import annotations

from imapcopy_tui.engine.identity import fingerprint

HEADER = b"From: a@example.com\r\nMessage-ID: <1@x>\r\nSubject: hello\r\n\r\n"


def test_same_header_and_size_is_the_same_message() -> None:
    """Identical header section and size give the same fingerprint."""
    assert fingerprint(HEADER, 100) == fingerprint(bytes(HEADER), 100)


def test_shared_message_id_with_other_subject_is_another_message() -> None:
    """Two messages sharing a Message-ID but not their headers are distinct."""
    other = HEADER.replace(b"hello", b"hello again")
    assert fingerprint(HEADER, 100) != fingerprint(other, 100 + 6)


def test_same_headers_other_body_size_is_another_message() -> None:
    """Same headers, different body length: distinct."""
    assert fingerprint(HEADER, 100) != fingerprint(HEADER, 101)


def test_line_ends_and_folding_do_not_matter() -> None:
    """LF versus CRLF and header folding do not change identity."""
    lf = HEADER.replace(b"\r\n", b"\n")
    folded = HEADER.replace(b"Subject: hello", b"Subject:\r\n hello")
    size = 100
    assert fingerprint(lf, size - (len(HEADER) - len(lf))) == fingerprint(HEADER, size)
    assert fingerprint(folded, size + 2) == fingerprint(HEADER, size)


def test_mbsync_x_tuid_is_ignored() -> None:
    """A copy made earlier by mbsync (which adds X-TUID) is recognised."""
    tuid = b"X-TUID: abcdefgh1234\r\n"
    with_tuid = tuid + HEADER
    assert fingerprint(with_tuid, 100 + len(tuid)) == fingerprint(HEADER, 100)
