"""OAuth2 sign-in: the SASL exchange of XOAUTH2 and OAUTHBEARER (RFC 7628), and the
words for the user when it fails.

Pure functions and a small callable: :mod:`session` sends them with imaplib's
AUTHENTICATE.  IMAPClient's ``oauth2_login``/``oauthbearer_login`` answer the server's
error challenge by sending the token a second time; RFC 7628 (and Google's XOAUTH2)
want a dummy answer there instead, which :class:`SaslExchange` gives, keeping what the
server said about the token.
"""

from __future__ import annotations

import json
import re

from imapcopy_tui.engine.account import Account, AuthMethod

XOAUTH2 = "XOAUTH2"
OAUTHBEARER = "OAUTHBEARER"
_STATUS = re.compile(r"[A-Za-z0-9_. -]{1,40}")


class NoMechanism(Exception):
    """The server offers no OAuth2 mechanism that the account may use."""


def mechanism(account: Account, capabilities: frozenset[str]) -> str:
    """The SASL mechanism to use for ``account``, given the server's capabilities
    (upper case); ``NoMechanism`` with the sentence to show when there is none."""
    offered = [m for m in (XOAUTH2, OAUTHBEARER) if f"AUTH={m}" in capabilities]
    wanted = {
        AuthMethod.XOAUTH2: [XOAUTH2],
        AuthMethod.OAUTHBEARER: [OAUTHBEARER],
    }.get(account.auth, [XOAUTH2, OAUTHBEARER])
    for name in wanted:
        if name in offered:
            return name
    others = sorted(c.removeprefix("AUTH=") for c in capabilities if c.startswith("AUTH="))
    if offered:
        hint = f"it offers {' and '.join(offered)}: choose that"
    elif others:
        hint = (f"it offers {', '.join(others)} only: sign in with the password "
                       "(or an app password)")
    else:
        hint = "sign in with the password (or an app password)"
    raise NoMechanism(
        f"the server does not offer {' or '.join(wanted)} (OAuth2 sign-in); {hint}"
    )


class SaslExchange:
    """The client's side of one AUTHENTICATE: imaplib calls it with each challenge.

    The first answer is the token; a challenge after it can only be the server's error
    report (a JSON object), answered with the dummy response the mechanism asks for,
    after which the server says NO.
    """

    def __init__(self, mechanism: str, login: str, token: str) -> None:
        self.mechanism = mechanism
        self._initial = initial_response(mechanism, login, token)
        self._sent = False
        self.error_status = ""  # what the server's error challenge said, if anything

    def __call__(self, challenge: bytes) -> bytes:
        if not self._sent:
            self._sent = True
            return self._initial
        self.error_status = error_status(challenge)
        return b"" if self.mechanism == XOAUTH2 else b"\x01"


def initial_response(mechanism: str, login: str, token: str) -> bytes:
    """The client's first response, before base64 (imaplib encodes it)."""
    if mechanism == XOAUTH2:
        return f"user={login}\x01auth=Bearer {token}\x01\x01".encode()
    # RFC 7628 section 3.1: a GS2 header naming the user (RFC 5801 escapes), then kvpairs.
    authzid = login.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01auth=Bearer {token}\x01\x01".encode()


def error_status(challenge: bytes) -> str:
    """The ``status`` of an RFC 7628 error challenge (``invalid_token``, ``401``...)."""
    try:
        status = json.loads(challenge.decode("utf-8")).get("status")
    except (ValueError, AttributeError):
        return ""
    return status if isinstance(status, str) and _STATUS.fullmatch(status) else ""


def refused_message(account: Account, words: str, status: str) -> str:
    """The AuthError text for a refused token, saying what to do next."""
    said = words or "authentication failed"
    if status:
        said += f"; status {status}"
    if account.token_file:
        fresh = (f"put a fresh access token in {account.token_file} (they expire after "
                 "about an hour), or give a token command that fetches one")
    else:
        fresh = (f"check that {account.token_source()} prints a current access token of "
                 f"{account.login}, with the mail (IMAP) scope")
    return (f"{account.describe()}: the server refused the OAuth2 access token ({said}); "
            f"get a fresh token: {fresh}")
