"""What it takes to reach one mailbox: server, security, login and password."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
