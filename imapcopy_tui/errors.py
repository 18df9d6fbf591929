"""One exception hierarchy for the whole tool.

Every error a user can meet is one of these types.  The engine translates socket, SSL and
IMAP library errors into them (and nowhere else does), so the UI and the command line only
ever show ``str(error)``: one line, in the user's terms, naming the account and server.
"""

from __future__ import annotations


class ImapCopyError(Exception):
    """Base of every error this tool raises on purpose."""


class ConfigError(ImapCopyError):
    """A settings or presets file is malformed; the message names the file and key."""


class UsageError(ImapCopyError):
    """The user asked for something contradictory or incomplete."""


class SameAccountError(UsageError):
    """The source and the destination are one account: a copy could only write into the
    source (its report, at least), and this tool never changes the source."""


# --- connecting -------------------------------------------------------------------------


class ConnectError(ImapCopyError):
    """Could not reach or talk to an IMAP server.

    ``transient`` says whether trying again later may help (a timeout or a dropped
    connection) as opposed to a setting that must be corrected first.
    """

    transient: bool = False


class DnsError(ConnectError):
    """The server name does not resolve."""


class PortClosedError(ConnectError):
    """Nothing listens on that port."""


class ServerTimeoutError(ConnectError):
    """The server did not answer in time."""

    transient = True


class ConnectionLostError(ConnectError):
    """An established connection was cut."""

    transient = True


class TlsError(ConnectError):
    """The TLS handshake failed for a reason other than those below."""


class CertificateUntrustedError(TlsError):
    """The server's certificate is not signed by a trusted authority."""


class CertificateHostnameError(TlsError):
    """The certificate is valid but for another host name."""


class NotTlsError(TlsError):
    """TLS was asked for but the port speaks plain text."""


class StartTlsUnavailableError(TlsError):
    """STARTTLS was asked for but the server does not offer it."""


class ServerBusyError(ConnectError):
    """The server asked us to wait: ``[UNAVAILABLE]``, ``[THROTTLED]``, ``[LIMIT]``, a
    throttling text or a BYE saying so.  Nothing was done; the same command may be sent
    again after ``retry_after`` seconds when the server suggested a delay."""

    transient = True

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        retry_after: float | None = None,
        connection_closed: bool = False,
        refusal: str = "",
    ):
        super().__init__(message)
        self.refusal = refusal or message  # the words to record if waiting does not help
        self.code = code  # the response code ("UNAVAILABLE", "THROTTLED", "LIMIT") or ""
        self.retry_after = retry_after
        self.connection_closed = connection_closed  # said with BYE: reconnect to go on


class NotImapError(ConnectError):
    """Something answered on that port, but not an IMAP server."""


class AuthError(ImapCopyError):
    """The server refused the login and password (or the OAuth2 access token)."""


class TokenError(AuthError):
    """No OAuth2 access token could be had: the token file cannot be read, or the token
    command failed or printed none.  The message names the file or command, never a token."""


class ServerError(ImapCopyError):
    """The server answered NO or BAD to a command we needed."""


class QuotaExceededError(ServerError):
    """The destination refused a message because the account is over its quota
    (``[OVERQUOTA]``, RFC 5530)."""


class DestinationFullError(ImapCopyError):
    """The destination refused message after message as over quota: the job stops (to be
    resumed once there is room) instead of failing every message left."""


# --- jobs -------------------------------------------------------------------------------


class StorageError(ImapCopyError):
    """The job database could not be read or written (read-only, held by another
    program, disk full); the message names the file and what to do."""


class JobExistsError(ImapCopyError):
    """A job for this source account is already queued or running."""


class JobNotFoundError(ImapCopyError):
    """No job matches the lookup."""


class CopyCancelled(ImapCopyError):
    """The copy was cancelled by the user."""


class ConnectionInterrupted(CopyCancelled):
    """A connection was cut on purpose because the copy is stopping (the user stopped it,
    or another connection failed the job): not a lost connection to reconnect to."""
