"""How a set-aside message is described to a person: never an error, never a control code."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from imapcopy_tui.engine.transfer import describe_message


def test_date_sender_subject() -> None:
    header = (
        b"Date: Mon, 1 Jan 2024 10:00:00 +0100\r\nFrom: =?utf-8?q?Ren=C3=A9?= <r@example.org>"
        b"\r\nSubject: Holiday\r\n photos\r\n\r\n"
    )
    assert describe_message(header) == (
        ": dated Mon, 01 Jan 2024 10:00:00 +0100, from René <r@example.org>, "
        "subject Holiday photos"
    )


def test_broken_headers_do_not_stop_the_job() -> None:
    assert describe_message(b"From: =?utf-8?q?=22=3Ca=40b=3E?= <\r\nSubject: x\r\n\r\n") == (
        ": subject x"
    )
    assert describe_message(b"From: :\x83;\x82q<]\r\n\r\n") == ""
    assert "\x1b" not in describe_message(b"Subject: =?utf-8?b?G1szMW0=?=red\r\n\r\n")


@settings(max_examples=300)
@given(st.binary(max_size=300), st.sampled_from([b"From: ", b"Subject: ", b"Date: "]))
def test_any_header_gives_printable_text(noise: bytes, name: bytes) -> None:
    text = describe_message(name + noise + b"\r\n\r\n")
    assert text.isprintable() or text == ""
