"""Which login command carries a password: LOGIN only when it can carry it whole."""

from __future__ import annotations

from typing import Any

import pytest

from imapcopy_tui.engine.account import Account, AuthMethod
from imapcopy_tui.engine.session import _log_in
from imapcopy_tui.errors import AuthError


class RecordingClient:
    """Records the login method IMAPClient would have been asked to use."""

    def __init__(self, plain: bool = True) -> None:
        self.plain = plain
        self.used: list[str] = []

    def login(self, *_args: Any) -> bytes:
        self.used.append("LOGIN")
        return b"Logged in"

    def plain_login(self, *_args: Any) -> bytes:
        self.used.append("AUTHENTICATE PLAIN")
        return b"Logged in"

    def has_capability(self, name: str) -> bool:
        return self.plain and name == "AUTH=PLAIN"


@pytest.mark.parametrize(
    ("password", "method"),
    [
        ("plain-ascii pw!", "LOGIN"),
        ("pé-€", "AUTHENTICATE PLAIN"),
        # A line break inside LOGIN's quoted string would end the command there and send
        # the rest of the password as a command of its own.
        ("first\r\nA1 LOGOUT", "AUTHENTICATE PLAIN"),
        ("tab\there", "AUTHENTICATE PLAIN"),
    ],
    ids=["ascii", "non-ascii", "line-break", "control"],
)
def test_login_or_authenticate(password: str, method: str) -> None:
    """Printable ASCII goes in LOGIN; anything else in AUTHENTICATE PLAIN (base64)."""
    client = RecordingClient()
    _log_in(client, Account(host="h", login="alice", password=password))  # type: ignore[arg-type]
    assert client.used == [method]


def test_without_auth_plain_such_a_password_is_refused_unsent() -> None:
    """No AUTH=PLAIN: an error that does not quote the password, and nothing sent."""
    client = RecordingClient(plain=False)
    with pytest.raises(AuthError, match="non-ASCII or control characters") as caught:
        _log_in(client, Account(host="h", login="alice", password="x\ny"))  # type: ignore[arg-type]
    assert client.used == []
    assert "x\ny" not in str(caught.value)


def test_plain_asked_for_is_used_even_for_an_ascii_password() -> None:
    """--authmech PLAIN: AUTHENTICATE PLAIN always; refused unsent when not offered."""
    plain = Account(host="h", login="alice", password="ascii", auth=AuthMethod.PLAIN)
    client = RecordingClient()
    _log_in(client, plain)  # type: ignore[arg-type]
    assert client.used == ["AUTHENTICATE PLAIN"]
    client = RecordingClient(plain=False)
    with pytest.raises(AuthError, match="does not offer AUTHENTICATE PLAIN"):
        _log_in(client, plain)  # type: ignore[arg-type]
    assert client.used == []
