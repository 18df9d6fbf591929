"""What it takes to reach one mailbox: server, security, login, and a password or where
to get an OAuth2 access token.

The server name and port are checked here, once, for the command line, the app and the
engine: an :class:`Account` with a name that cannot be looked up or a port out of range
cannot be built (``UsageError``), so nothing further on meets a codec error or a socket
that silently picks a port.  Likewise an OAuth2 account without exactly one token source.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum

from imapcopy_tui.errors import SameAccountError, UsageError

MAX_PORT = 65535
MAX_LOGIN = 320  # an e-mail address is at most 254; the app's field takes 320
_MAX_HOST_LENGTH = 253  # RFC 1035, without the optional final dot
_PORT_TEXT = re.compile(r"[+-]?[0-9]+")


class Security(StrEnum):
    """How the connection is protected."""

    TLS = "tls"  # implicit TLS from the first byte (usually port 993)
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (usually 143)
    PLAIN = "plain"  # no encryption at all: only when the user asks for it

    @property
    def default_port(self) -> int:
        return 993 if self is Security.TLS else 143


class AuthMethod(StrEnum):
    """How the account signs in."""

    PASSWORD = "password"  # LOGIN; AUTHENTICATE PLAIN when LOGIN cannot carry the password
    PLAIN = "plain"  # always AUTHENTICATE PLAIN
    OAUTH2 = "oauth2"  # an access token, with XOAUTH2 if the server offers it, else OAUTHBEARER
    XOAUTH2 = "xoauth2"  # an access token, with XOAUTH2 only (Google, Microsoft, Yahoo)
    OAUTHBEARER = "oauthbearer"  # an access token, with OAUTHBEARER only (RFC 7628)

    @property
    def uses_token(self) -> bool:
        """Whether the account signs in with an OAuth2 access token (no password)."""
        return self in (AuthMethod.OAUTH2, AuthMethod.XOAUTH2, AuthMethod.OAUTHBEARER)


_SHOWN_COMMAND = 60  # characters of a token command quoted in messages


@dataclass(frozen=True)
class Account:
    """One side of a copy.

    ``role`` ("source" or "destination") only serves to name the account in messages.
    The password never appears in ``repr`` and is never written anywhere by this tool.

    With an OAuth2 ``auth`` there is no password: the access token is fetched at each
    connection (:mod:`imapcopy_tui.engine.tokens`) from ``token_file`` or by running
    ``token_command``.  Neither is a secret (the token is), so they travel and show.
    """

    host: str
    login: str
    password: str = field(repr=False)
    port: int = 993
    security: Security = Security.TLS
    ca_file: str | None = None
    verify_certificate: bool = True
    role: str = "source"
    auth: AuthMethod = AuthMethod.PASSWORD
    token_file: str | None = None
    token_command: str | None = None

    def __post_init__(self) -> None:
        problem = host_problem(self.host)
        if problem:
            raise UsageError(f"the {self.role} server name {self.host!r} {problem}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise UsageError(f"the {self.role} port {self.port!r} is not a number")
        if not 1 <= self.port <= MAX_PORT:
            raise UsageError(f"the {self.role} port {self.port} is not between 1 and {MAX_PORT}")
        if len(self.login) > MAX_LOGIN:
            # Servers answer such a login with "Input buffer full" or a bare refusal, which
            # would read as a wrong password.
            raise UsageError(
                f"the {self.role} login is {len(self.login)} characters long; a login is an "
                f"address or a user name (at most {MAX_LOGIN} characters)"
            )
        for name, value in (("token file", self.token_file),
                            ("token command", self.token_command)):
            if value is not None and not value.strip():
                raise UsageError(f"the {self.role} {name} is empty")
        sources = [s for s in (self.token_file, self.token_command) if s is not None]
        if self.auth.uses_token and len(sources) != 1:
            raise UsageError(
                f"the {self.role} account signs in with OAuth2: give "
                + ("either a token file or a token command, not both" if sources else
                   "a token file or a token command that prints an access token")
            )
        if not self.auth.uses_token and sources:
            raise UsageError(
                f"the {self.role} account signs in with a password: a token file or command "
                "is for OAuth2 sign-in only"
            )

    @property
    def address(self) -> str:
        """The login as the user typed it (usually the e-mail address)."""
        return self.login

    @property
    def key(self) -> str:
        """Stable, non-secret identity of the account: login, host and port."""
        return f"{self.login.lower()}@{self.host.lower()}:{self.port}"

    def describe(self) -> str:
        """Name the account in the user's terms, for messages."""
        return f"{self.role} account {self.login} on {self.host}:{self.port}"

    def token_source(self) -> str:
        """Where the access token comes from, for messages ("" without OAuth2)."""
        if self.token_file:
            return f"the token file {self.token_file}"
        if self.token_command:
            command = self.token_command.strip()
            if len(command) > _SHOWN_COMMAND:
                command = command[: _SHOWN_COMMAND - 1] + "…"
            return f"the token command {command!r}"
        return ""


def host_problem(host: str) -> str:
    """What makes ``host`` unusable as a server name, as the end of a sentence about it
    ("" when it is fine).  An IPv6 address is fine, without brackets."""
    if not host:
        return "is empty"
    if any(c.isspace() for c in host):
        return "contains spaces; type the bare name, e.g. imap.example.org"
    if not host.isprintable():
        return "contains control or invisible characters; type it again by hand"
    if "://" in host or "/" in host:
        return "is not a bare server name; type only the name, e.g. imap.example.org"
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "includes a port; give the server name and the port separately"
        return ""
    try:
        encoded = host.encode("idna")  # what the socket layer does with the name
    except UnicodeError:
        return ("is not a valid server name (a part between dots is empty or longer "
                "than 63 characters)")
    if len(encoded.rstrip(b".")) > _MAX_HOST_LENGTH:
        return f"is too long for a server name (at most {_MAX_HOST_LENGTH} characters)"
    return ""


def bare_host(host: str) -> str:
    """``host`` as typed, trimmed, and an IPv6 address ``[::1]`` without its brackets."""
    value = host.strip()
    if value.startswith("[") and value.endswith("]"):
        return value[1:-1]
    return value


def check_host(host: str, role: str) -> str:
    """:func:`bare_host`, or ``UsageError`` naming the ``role`` (source or destination)."""
    value = bare_host(host)
    problem = host_problem(value)
    if problem:
        raise UsageError(f"the {role} server name {host!r} {problem}")
    return value


def port_problem(port: str) -> str:
    """What makes the text ``port`` unusable as a port, as the end of a sentence about it
    ("" when it is a whole number from 1 to 65535)."""
    text = port.strip()
    if not _PORT_TEXT.fullmatch(text):
        return "is not a number"
    digits = text.lstrip("+-").lstrip("0")
    # Compare lengths first: int() refuses texts of thousands of digits.
    if text.startswith("-") or not digits or len(digits) > 5 or int(digits) > MAX_PORT:
        return f"is not between 1 and {MAX_PORT}"
    return ""


def check_port(port: str, role: str) -> int:
    """The port typed as ``port``, or ``UsageError`` naming the ``role`` and what to type."""
    text = port.strip()
    problem = port_problem(text)
    if problem:
        shown = text if _PORT_TEXT.fullmatch(text) else repr(port)
        raise UsageError(
            f"the {role} port {shown} {problem}; "
            "IMAP is usually on 993 (TLS) or 143 (STARTTLS)"
        )
    return int(text)


def check_distinct(source: Account, destination: Account) -> None:
    """Raise :class:`SameAccountError` when both sides are the same account (the same
    login on the same server and port, in any case)."""
    if source.key == destination.key:
        raise SameAccountError(
            f"the source and the destination are the same account ({source.login} on "
            f"{source.host}:{source.port}): a copy would write into the source; check the "
            "destination's login and server"
        )
