"""What it takes to reach one mailbox: server, security, login and password.

The server name and port are checked here, once, for the command line, the app and the
engine: an :class:`Account` with a name that cannot be looked up or a port out of range
cannot be built (``UsageError``), so nothing further on meets a codec error or a socket
that silently picks a port.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum

from imapcopy_tui.errors import UsageError

MAX_PORT = 65535
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


@dataclass(frozen=True)
class Account:
    """One side of a copy.

    ``role`` ("source" or "destination") only serves to name the account in messages.
    The password never appears in ``repr`` and is never written anywhere by this tool.
    """

    host: str
    login: str
    password: str = field(repr=False)
    port: int = 993
    security: Security = Security.TLS
    ca_file: str | None = None
    verify_certificate: bool = True
    role: str = "source"

    def __post_init__(self) -> None:
        problem = host_problem(self.host)
        if problem:
            raise UsageError(f"the {self.role} server name {self.host!r} {problem}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise UsageError(f"the {self.role} port {self.port!r} is not a number")
        if not 1 <= self.port <= MAX_PORT:
            raise UsageError(f"the {self.role} port {self.port} is not between 1 and {MAX_PORT}")

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
