"""OAuth2 sign-in without a server: which mechanism is used, what goes in it, what the
client answers to the server's error report, and that the trace hides it all."""

from __future__ import annotations

import base64

import pytest

from imapcopy_tui.engine import oauth2
from imapcopy_tui.engine.account import Account, AuthMethod
from imapcopy_tui.engine.trace import HIDDEN
from tests.unit.test_trace import run

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sifQ.c2ln"


def account(auth: AuthMethod) -> Account:
    return Account("imap.example.org", "alice@example.org", "", auth=auth, token_file="/t")


def caps(*mechanisms: str) -> frozenset[str]:
    return frozenset({"IMAP4REV1", "SASL-IR", *(f"AUTH={m}" for m in mechanisms)})


@pytest.mark.parametrize(
    ("auth", "offered", "chosen"),
    [
        (AuthMethod.OAUTH2, ("PLAIN", "XOAUTH2", "OAUTHBEARER"), "XOAUTH2"),
        (AuthMethod.OAUTH2, ("OAUTHBEARER",), "OAUTHBEARER"),
        (AuthMethod.XOAUTH2, ("XOAUTH2", "OAUTHBEARER"), "XOAUTH2"),
        (AuthMethod.OAUTHBEARER, ("XOAUTH2", "OAUTHBEARER"), "OAUTHBEARER"),
    ],
)
def test_mechanism_offered_is_used(
    auth: AuthMethod, offered: tuple[str, ...], chosen: str
) -> None:
    """OAuth2 without a mechanism named takes XOAUTH2 (what imapsync sends), else
    OAUTHBEARER; a named one is used as named."""
    assert oauth2.mechanism(account(auth), caps(*offered)) == chosen


@pytest.mark.parametrize(
    ("auth", "offered", "said"),
    [
        (AuthMethod.XOAUTH2, ("OAUTHBEARER",),
         ("the server does not offer XOAUTH2 (OAuth2 sign-in); it offers OAUTHBEARER: "
          "choose that")),
        (AuthMethod.OAUTH2, ("PLAIN", "LOGIN"),
         ("the server does not offer XOAUTH2 or OAUTHBEARER (OAuth2 sign-in); it offers "
          "LOGIN, PLAIN only: sign in with the password (or an app password)")),
        (AuthMethod.OAUTHBEARER, (),
         ("the server does not offer OAUTHBEARER (OAuth2 sign-in); sign in with the "
          "password (or an app password)")),
    ],
)
def test_mechanism_not_offered_says_what_is(
    auth: AuthMethod, offered: tuple[str, ...], said: str
) -> None:
    with pytest.raises(oauth2.NoMechanism) as caught:
        oauth2.mechanism(account(auth), caps(*offered))
    assert str(caught.value) == said


def test_initial_responses_follow_the_specifications() -> None:
    """XOAUTH2 as Google and Microsoft document it; OAUTHBEARER as RFC 7628 3.1, the user
    escaped in the GS2 header as RFC 5801 says."""
    assert oauth2.initial_response("XOAUTH2", "alice@example.org", TOKEN) == (
        b"user=alice@example.org\x01auth=Bearer " + TOKEN.encode() + b"\x01\x01")
    assert oauth2.initial_response("OAUTHBEARER", "a=b,c@example.org", TOKEN) == (
        b"n,a=a=3Db=2Cc@example.org,\x01auth=Bearer " + TOKEN.encode() + b"\x01\x01")


@pytest.mark.parametrize(("mechanism", "dummy"), [("XOAUTH2", b""), ("OAUTHBEARER", b"\x01")])
def test_error_challenge_gets_the_dummy_answer_not_the_token_again(
    mechanism: str, dummy: bytes
) -> None:
    """The token goes once; the server's error report is answered as the mechanism asks
    (RFC 7628 3.2.3), and its status kept for the message."""
    exchange = oauth2.SaslExchange(mechanism, "alice", TOKEN)
    assert TOKEN.encode() in exchange(b"")
    assert exchange(b'{"status":"invalid_token","scope":"mail"}') == dummy
    assert exchange.error_status == "invalid_token"
    assert oauth2.error_status(b"not json") == oauth2.error_status(b'{"status":"x\\ny"}') == ""


def test_refusal_says_to_get_a_fresh_token() -> None:
    """Named account, the server's words and status, what to do; never the token."""
    message = oauth2.refused_message(
        account(AuthMethod.XOAUTH2), "[AUTHENTICATIONFAILED] Authentication failed.", "401")
    assert message == (
        "source account alice@example.org on imap.example.org:993: the server refused the "
        "OAuth2 access token ([AUTHENTICATIONFAILED] Authentication failed.; status 401); get "
        "a fresh token: put a fresh access token in /t (they expire after about an hour), or "
        "give a token command that fetches one")


XOAUTH2_B64 = base64.b64encode(oauth2.initial_response("XOAUTH2", "alice", TOKEN))
BEARER_B64 = base64.b64encode(oauth2.initial_response("OAUTHBEARER", "alice", TOKEN))
ERROR_B64 = base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"mail"}')


def test_trace_hides_oauth2_exchanges() -> None:
    """XOAUTH2 as an initial response (SASL-IR) and OAUTHBEARER over continuations, with the
    server's error report answered: only the mechanism names and the server's lines show."""
    lines = run([
        ("C", b"a1 AUTHENTICATE XOAUTH2 " + XOAUTH2_B64 + b"\r\n"),
        ("S", b"+ " + ERROR_B64 + b"\r\n"),
        ("C", b"\r\n"),
        ("S", b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
        ("C", b"a2 AUTHENTICATE OAUTHBEARER\r\n"),
        ("S", b"+ \r\n"),
        ("C", BEARER_B64),
        ("C", b"\r\n"),
        ("S", b"a2 OK Logged in\r\n"),
        ("C", b"a3 LIST \"\" \"*\"\r\n"),
    ])
    assert lines == [
        f"C: a1 AUTHENTICATE XOAUTH2 {HIDDEN}",
        f"S: + {ERROR_B64.decode()}",
        f"C: {HIDDEN}",
        "S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        "C: a2 AUTHENTICATE OAUTHBEARER",
        "S: + ",
        f"C: {HIDDEN}",
        "S: a2 OK Logged in",
        'C: a3 LIST "" "*"',
    ]
    assert not any(TOKEN in line or XOAUTH2_B64.decode()[:40] in line for line in lines)
