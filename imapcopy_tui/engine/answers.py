"""What servers and the network answer, in the user's terms.

Every socket, SSL and IMAP library error, and every NO or BAD a server gives, becomes one of
:mod:`imapcopy_tui.errors`' types here: a one-line message naming the account and server
and saying what to try.  A refusal that means "not now" (``[UNAVAILABLE]``, ``[THROTTLED]``,
"Suggested Backoff Time: N milliseconds") becomes a ``ServerBusyError`` carrying the
delay the server asked for; one that says what is wrong stays a refusal.
"""

from __future__ import annotations

import errno
import imaplib
import re
import socket
import ssl
from typing import Any

from imapclient.exceptions import LoginError

from imapcopy_tui.engine.account import Account
from imapcopy_tui.errors import (
    AuthError,
    CertificateHostnameError,
    CertificateUntrustedError,
    ConfigError,
    ConnectError,
    ConnectionLostError,
    DnsError,
    NotImapError,
    NotTlsError,
    PortClosedError,
    QuotaExceededError,
    ServerBusyError,
    ServerError,
    ServerTimeoutError,
    TlsError,
)

# OpenSSL reasons seen when the peer does not speak TLS at all (a plain IMAP greeting
# parsed as a TLS record).
_NOT_TLS_REASONS = {
    "WRONG_VERSION_NUMBER",
    "UNKNOWN_PROTOCOL",
    "HTTP_REQUEST",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "UNEXPECTED_EOF_WHILE_READING",
}
_X509_HOSTNAME_MISMATCH = 62
_X509_IP_MISMATCH = 64
# Answers that mean "not now" rather than "never": RFC 5530 codes, the [THROTTLED] of
# Yahoo and Microsoft, and the texts providers use instead of a code.
_BUSY_CODE = re.compile(r"\[(UNAVAILABLE|THROTTLED|LIMIT|INUSE)\b", re.IGNORECASE)
_BUSY_TEXT = re.compile(
    r"throttl|try again|too many (?:requests|commands)|rate limit|bandwidth limit",
    re.IGNORECASE,
)
_RESPONSE_CODE = re.compile(r"\[([A-Z][A-Z0-9-]*)[\] ]", re.IGNORECASE)
_TOO_BIG = re.compile(r"\bsize\b|too (?:big|large)", re.IGNORECASE)
# "Suggested Backoff Time: 1234 milliseconds" (Exchange), "retry after 30 seconds"...
_SUGGESTED_DELAY = re.compile(
    r"(?:backoff time|retry after|try again in)\W{0,3}(\d+(?:\.\d+)?)\s*"
    r"(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h)?\b",
    re.IGNORECASE,
)


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


SERVER_WORDS_LIMIT = 300  # characters of a server's words quoted in a message


def server_words(exc: BaseException, *, hide: str = "") -> str:
    """The server's own text from an IMAPClient error, without the command echo, cut to
    ``SERVER_WORDS_LIMIT`` characters (a hostile or broken server's answer is not a page:
    the message it goes in must stay one readable line).  ``hide`` (a secret the server
    might quote) is replaced by ``[hidden]`` before the cut, which could leave half of it."""
    text = as_text(exc.args[0]) if exc.args else str(exc)
    # imaplib formats errors as "<command> command error: BAD [b'text']" and IMAPClient as
    # "append failed: [OVERQUOTA] text"; keep what the server said.
    match = re.search(r"\[?b(['\"])(.*)\1\]?$", text)
    if match:
        text = match.group(2)
    if ": " in text and text.split(": ", 1)[0].endswith(("failed", "error")):
        text = text.split(": ", 1)[1]
    text = text.strip()
    if hide:
        text = text.replace(hide, "[hidden]")
    if len(text) > SERVER_WORDS_LIMIT:
        text = text[: SERVER_WORDS_LIMIT - 1] + "…"
    return text


def printable_line(text: str, limit: int = 200) -> str:
    """A server's ``text`` made safe to show: whitespace runs and control characters become
    one space (it goes to terminals, the job table and the report: no line breaks, no escape
    sequences), at most ``limit`` characters (a server's words are not a page)."""
    line = "".join(c if c.isprintable() else " " for c in text)
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _delay_unit(unit: str) -> float:
    if unit.startswith(("ms", "milli")):
        return 0.001
    if unit.startswith("min"):
        return 60.0
    if unit.startswith("h"):
        return 3600.0
    return 1.0


def busy_answer(where: str, words: str, *, bye: bool = False) -> ServerBusyError | None:
    """A ``ServerBusyError`` when the server's words ask us to wait, else None."""
    code = _BUSY_CODE.search(words)
    other_code = _RESPONSE_CODE.search(words)
    if code is None and (
        # A code saying what is wrong ([OVERQUOTA], [AUTHENTICATIONFAILED], [CANNOT]...)
        # outweighs a "try again" in the text; [ALERT] only says "show this to the user".
        (other_code and other_code.group(1).upper() != "ALERT")
        or _BUSY_TEXT.search(words) is None
    ):
        return None
    if code and code.group(1).upper() == "LIMIT" and _TOO_BIG.search(words):
        return None  # "[LIMIT] Mail size is larger than ...": waiting will not help
    retry_after = None
    suggested = _SUGGESTED_DELAY.search(words)
    if suggested:
        unit = (suggested.group(2) or "s").lower()
        retry_after = float(suggested.group(1)) * _delay_unit(unit)
    shown = printable_line(words, SERVER_WORDS_LIMIT)
    return ServerBusyError(
        f"{where}: the server asks to wait ({shown})",
        code=code.group(1).upper() if code else "",
        retry_after=retry_after,
        connection_closed=bye,
        refusal=f"{where}: the server answered: {shown}",
    )


def refusal(where: str, words: str) -> ServerError | ServerBusyError:
    """The error for a NO or BAD answer: busy (try again later), over quota, or refused;
    the server's words shown on one line, cut to ``SERVER_WORDS_LIMIT`` characters."""
    busy = busy_answer(where, words)
    if busy is not None:
        return busy
    shown = printable_line(words, SERVER_WORDS_LIMIT)
    if "[OVERQUOTA]" in words.upper():
        return QuotaExceededError(f"{where}: the server answered: {shown}")
    return ServerError(f"{where}: the server answered: {shown}")


def _ssl_error(account: Account, exc: ssl.SSLError) -> ConnectError:
    where = account.describe()
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code in (_X509_HOSTNAME_MISMATCH, _X509_IP_MISMATCH):
            return CertificateHostnameError(
                f"{where}: the server's certificate is not valid for the name "
                f"{account.host!r}; use the host name written in the certificate"
            )
        return CertificateUntrustedError(
            f"{where}: the server's certificate is not trusted "
            f"({exc.verify_message}); give its CA file, or if you trust this network, "
            "skip the check explicitly"
        )
    if (exc.reason or "") in _NOT_TLS_REASONS:
        return NotTlsError(
            f"{where}: port {account.port} does not speak TLS; "
            "choose STARTTLS (or the TLS port, usually 993)"
        )
    return TlsError(f"{where}: TLS failed ({exc.reason or exc})")


def translate(account: Account, exc: BaseException, *, established: bool) -> Exception:
    """Turn a low-level exception into one of ours, phrased for ``account``.

    ``established`` says whether the IMAP session was already up: then a socket error is a
    lost connection rather than a failure to connect.
    """
    where = account.describe()
    if isinstance(exc, ConnectError | AuthError | ServerError | ConfigError):
        return exc
    if isinstance(exc, socket.gaierror):
        return DnsError(
            f"{where}: the server name {account.host!r} does not resolve; "
            "check the IMAP server name"
        )
    if isinstance(exc, ssl.SSLError):
        if established:
            return ConnectionLostError(f"{where}: the TLS connection broke ({exc.reason})")
        return _ssl_error(account, exc)
    if isinstance(exc, TimeoutError | socket.timeout):
        if established:
            return ServerTimeoutError(f"{where}: the server stopped answering")
        return ServerTimeoutError(
            f"{where}: no IMAP greeting within the time limit; check the port and the "
            "security setting (a TLS port answers nothing to a plain connection)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return PortClosedError(
            f"{where}: nothing accepts connections on port {account.port}; "
            "check the port (usually 993 for TLS, 143 for STARTTLS)"
        )
    if isinstance(exc, LoginError):
        # A server has no reason to quote the password; should one do so, it stays out.
        words = server_words(exc, hide=account.password)
        busy = busy_answer(where, words)
        if busy is not None:  # "[UNAVAILABLE] Temporary authentication failure"
            return busy
        return AuthError(
            f"{where}: the server refused the login or password "
            f"({words or 'authentication failed'}); check them, or use an "
            "app password if the provider requires one"
        )
    if isinstance(exc, imaplib.IMAP4.abort | EOFError) or (
        isinstance(exc, OSError)
        and exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, None)
    ):
        if not established:
            words = server_words(exc)
            # Words: something answered, not as IMAP servers do; none (imaplib says "socket
            # error: EOF"): it hung up at once.
            what = "answered" if words and words != "EOF" else "closed the connection"
            return NotImapError(
                f"{where}: the server on port {account.port} {what} without an IMAP "
                f"greeting ({words or exc}); is this an IMAP port?"
            )
        busy = busy_answer(where, server_words(exc), bye=True)  # "* BYE [UNAVAILABLE] ..."
        if busy is not None:
            return busy
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else server_words(exc)
        return ConnectionLostError(f"{where}: the connection was lost ({why or exc})")
    if isinstance(exc, OSError):
        if established:
            return ConnectionLostError(f"{where}: the connection was lost ({exc})")
        return ConnectError(f"{where}: cannot connect ({exc.strerror or exc})")
    if isinstance(exc, imaplib.IMAP4.error):
        if not established:
            return NotImapError(
                f"{where}: the program on port {account.port} is not an IMAP server "
                f"({server_words(exc)[:80]})"
            )
        return refusal(where, server_words(exc))
    raise exc
