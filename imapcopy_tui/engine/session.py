"""The one IMAP gateway: opening connections and the few commands the copier needs.

Every socket, SSL and IMAP library error is translated (by :mod:`answers`) into an
:mod:`imapcopy_tui.errors` type whose message names the account and server and says what
to try.  Nothing outside this module and :mod:`answers` imports ``imapclient``.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from imapclient import IMAPClient
from imapclient.imap_utf7 import decode as decode_utf7
from imapclient.imapclient import SocketTimeout

from imapcopy_tui.engine import compress, oauth2, trace
from imapcopy_tui.engine.account import Account, AuthMethod, Security
from imapcopy_tui.engine.answers import (
    as_text,
    busy_answer,
    printable_line,
    refusal,
    server_words,
    translate,
)
from imapcopy_tui.engine.bulk import (
    OutgoingMessage,
    append_one,
    appends_pipelined,
    multiappend_streamed,
    uid_fetch,
)
from imapcopy_tui.engine.interrupt import STOPPED, Interrupter, make_interruptibly
from imapcopy_tui.engine.tokens import fetch_token
from imapcopy_tui.engine.wire import FetchedMessage, parse_fetch
from imapcopy_tui.errors import (
    AuthError,
    ConfigError,
    ConnectError,
    ConnectionInterrupted,
    ServerBusyError,
    ServerError,
    StartTlsUnavailableError,
)

# imaplib refuses lines over 1 MB; a UID SEARCH of a folder of ~150,000 messages (Gmail's
# All Mail) is longer.  The module-wide limit is raised once, here, where imaplib is used.
imaplib._MAXLINE = max(imaplib._MAXLINE, 64 * 1024 * 1024)  # type: ignore[attr-defined]
_CAPABILITY_CODE = re.compile(rb"\[CAPABILITY ([^\]]+)\]", re.IGNORECASE)
_STATUS_ITEM = re.compile(rb"(MESSAGES|UIDNEXT|UIDVALIDITY|HIGHESTMODSEQ) (\d+)")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait: for the connection and greeting, then for each server answer.

    A stop does not wait for them: see :class:`Interrupter`."""

    connect: float = 20.0
    read: float = 180.0


class Compression(StrEnum):
    """When to compress a connection with COMPRESS=DEFLATE (RFC 4978)."""

    AUTO = "auto"  # when the server offers it and the link is slow (SLOW_LINK_SECONDS)
    ON = "on"  # whenever the server offers it
    OFF = "off"


# A link is slow when a round trip takes this long.  Loopback and a LAN answer in well
# under a millisecond, where compressing costs CPU and saves nothing that matters; across
# the Internet a round trip takes tens of milliseconds and bandwidth is what limits a copy.
SLOW_LINK_SECONDS = 0.010


class CompressionResult(StrEnum):
    """What became of COMPRESS=DEFLATE on one connection."""

    COMPRESSED = "compressed"
    NOT_ASKED = "not asked"  # off, or auto over a fast link
    NOT_OFFERED = "not offered"  # no COMPRESS=DEFLATE among the server's capabilities
    REFUSED = "refused"  # offered, but COMPRESS answered NO
    REJECTED = "rejected"  # offered, but COMPRESS answered BAD


@dataclass(frozen=True)
class CompressionOutcome:
    """Whether a connection is compressed and, when asked for but not, why not."""

    result: CompressionResult = CompressionResult.NOT_ASKED
    # REFUSED or REJECTED: the text of the server's answer, one printable line ("" if none).
    server_words: str = ""


_NOT_ASKED = CompressionOutcome()


class ConnectStep(StrEnum):
    """The visible steps of a connection test, in order."""

    CONNECTING = "connecting"
    AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class RawFolder:
    """A folder as LIST returns it (name already decoded from modified UTF-7)."""

    name: str
    delimiter: str | None
    flags: frozenset[str]


@dataclass(frozen=True)
class FolderStatus:
    """What STATUS says of a folder without opening it."""

    messages: int
    uidnext: int
    uidvalidity: int
    # RFC 7162, asked only of a server that offers CONDSTORE; None when not asked, or when
    # the folder keeps no mod-sequences (the server then answers 0).
    highestmodseq: int | None = None


@dataclass(frozen=True)
class FolderState:
    """What SELECT/EXAMINE says about a folder."""

    uidvalidity: int
    uidnext: int | None
    exists: int
    permanent_flags: frozenset[str]

    def accepts_keyword(self, keyword: str) -> bool:
        """Whether a keyword can be stored permanently (RFC 3501 PERMANENTFLAGS)."""
        return "\\*" in self.permanent_flags or keyword in self.permanent_flags


def _mailbox_key(name: str) -> str:
    return "INBOX" if name.upper() == "INBOX" else name


def _unquote(raw: bytes) -> bytes:
    if raw[:1] == b'"' and raw[-1:] == b'"':
        return re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw


def _status_replies(replies: Sequence[Any]) -> dict[str, FolderStatus]:
    """``* STATUS`` replies by folder name (quoted, atom or literal; modified UTF-7)."""
    found: dict[str, FolderStatus] = {}
    index = 0
    while index < len(replies):
        reply = replies[index]
        index += 1
        if isinstance(reply, tuple):  # the name came as a literal; its items follow
            raw_name = reply[1]
            text = (
                replies[index]
                if index < len(replies) and isinstance(replies[index], bytes)
                else b""
            )
            index += 1
        elif isinstance(reply, bytes):
            match = re.match(rb'\s*("(?:[^"\\]|\\.)*"|[^\s(]+)\s*(.*)$', reply, re.DOTALL)
            if match is None:
                continue
            raw_name, text = _unquote(match.group(1)), match.group(2)
        else:
            continue
        items = dict(re.findall(_STATUS_ITEM, text))
        if all(key in items for key in (b"MESSAGES", b"UIDNEXT", b"UIDVALIDITY")):
            found[_mailbox_key(decode_utf7(raw_name))] = FolderStatus(
                messages=int(items[b"MESSAGES"]),
                uidnext=int(items[b"UIDNEXT"]),
                uidvalidity=int(items[b"UIDVALIDITY"]),
                highestmodseq=int(items.get(b"HIGHESTMODSEQ", b"0")) or None,
            )
    return found


def _folder_state(info: dict[bytes, Any]) -> FolderState:
    permanent = info.get(b"PERMANENTFLAGS", info.get(b"FLAGS", ()))
    return FolderState(
        uidvalidity=int(info[b"UIDVALIDITY"]),
        uidnext=int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None,
        exists=int(info.get(b"EXISTS", 0)),
        permanent_flags=frozenset(as_text(f) for f in permanent),
    )


def uid_set(uids: Sequence[int]) -> str:
    """A compact UID set: runs of consecutive UIDs as ranges (``1:200,305,400:410``)."""
    parts: list[str] = []
    ordered = sorted(set(uids))
    start = previous = ordered[0]
    for uid in ordered[1:] + [0]:
        if uid == previous + 1:
            previous = uid
            continue
        parts.append(str(start) if start == previous else f"{start}:{previous}")
        start = previous = uid
    return ",".join(parts)


def _ssl_context(account: Account) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=account.ca_file)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise ConfigError(
            f"{account.describe()}: the CA file {account.ca_file} cannot be used ({reason}); "
            "give the PEM file of the authority that signed the server's certificate"
        ) from exc
    if not account.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class ImapSession:
    """A logged-in connection to one account, with the commands the copier uses."""

    def __init__(
        self, account: Account, client: IMAPClient, compression: CompressionOutcome = _NOT_ASKED
    ) -> None:
        self.account = account
        self._client = client
        # Why the connection is (not) compressed: the copier's warning says which.
        self.compression = compression
        self._capabilities: frozenset[str] | None = None
        self._broken = False  # a read or write failed: the stream may be mid-command
        # interrupt() may come from any thread while another uses or closes the session:
        # this lock keeps it from shutting down a socket that close() is releasing.
        self._state = threading.Lock()
        self._interrupted = False
        self._closing = False  # close() began: it says LOGOUT (unless broken), then closes
        self._closed = False  # the socket is being or has been released
        self._round_trip: float | None = None  # measured once, when first asked

    @property
    def compressed(self) -> bool:
        """Whether the connection is compressed (COMPRESS=DEFLATE)."""
        return compress.is_wrapped(self._client._imap)

    @property
    def closed(self) -> bool:
        return self._closed

    def round_trip(self, tries: int = 2) -> float:
        """The link's round trip in seconds, measured the first time it is asked (with
        ``tries`` NOOPs, see :func:`_round_trip`; auto compression may have measured it).

        Two by default, so that one late answer (this process busy) is not taken for a
        slow link; one where taking a fast link for slow costs little."""
        if self._round_trip is None:
            with self._guard():
                self._round_trip = _round_trip(self._client, tries)
        return self._round_trip

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def interrupt(self) -> None:
        """Cut the connection now, from any thread, because the copy is stopping.

        A thread blocked reading from (or writing to) a server that stopped answering
        would otherwise wait for the read timeout, minutes.  Shutting the socket down makes
        that read return at once; the command then raises ``ConnectionInterrupted``, not a
        lost connection to reconnect to, and nothing more is sent on this connection
        (no LOGOUT either: the server may be in the middle of a literal).

        The raw socket is shut down, under TLS and COMPRESS alike: ``SSLSocket.shutdown``
        would drop the TLS state another thread may be using, and TLS or compressed,
        the kernel refuses any write after it.
        """
        with self._state:
            self._interrupted = True
            self._broken = True
            if self._closed:
                return
            try:
                socket.socket.shutdown(compress.raw_socket(self._client._imap), socket.SHUT_RDWR)
            except OSError:  # not connected any more: nothing to interrupt
                pass

    def _stopped(self) -> ConnectionInterrupted:
        return ConnectionInterrupted(STOPPED)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        if self._interrupted:
            raise self._stopped()  # nothing more is sent on an interrupted connection
        try:
            yield
        except (OSError, EOFError, imaplib.IMAP4.error, ssl.SSLError) as exc:
            if isinstance(exc, imaplib.IMAP4.abort) or not isinstance(exc, imaplib.IMAP4.error):
                self._broken = True
            if self._interrupted:  # what failed is our own interrupt(), not the server
                raise self._stopped() from exc
            raise translate(self.account, exc, established=True) from exc
        except BaseException as exc:
            if not isinstance(exc, Exception):
                # Ctrl+C in this thread: the command stopped half-way, in either direction.
                self._broken = True
            raise

    # --- session -------------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[str]:
        if self._capabilities is None:
            with self._guard():
                self._capabilities = frozenset(
                    as_text(c).upper() for c in self._client.capabilities()
                )
        return self._capabilities

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    @property
    def append_limit(self) -> int | None:
        """The largest message the server takes, from ``APPENDLIMIT=n`` (RFC 7889)."""
        for capability in self.capabilities:
            name, _, value = capability.partition("=")
            if name == "APPENDLIMIT" and value.isdigit():
                return int(value)
        return None  # no limit announced (or per folder, which we do not ask)

    def namespaces(self) -> tuple[tuple[str, str | None] | None, tuple[str, ...]]:
        """The personal namespace ``(prefix, separator)`` (None without NAMESPACE), and the
        prefixes of other users' and shared namespaces, which are not this mailbox's mail."""
        if not self.has("NAMESPACE"):
            return None, ()
        with self._guard():
            found = self._client.namespace()
        personal = None
        if found.personal:
            prefix, separator = found.personal[0]
            personal = as_text(prefix), (as_text(separator) if separator else None)
        foreign = tuple(
            as_text(prefix)
            for group in (found.other, found.shared)
            for prefix, _separator in group or ()
            if as_text(prefix)
        )
        return personal, foreign

    def close(self) -> None:
        """Say LOGOUT and close, ignoring errors: the connection may already be gone.

        The answer is not waited for: every command of this connection was answered
        already, and over a slow link that wait is a round trip at the end of each pair.
        After a failed read or write nothing is said: the server could be in the middle
        of a literal, and would take the LOGOUT line for the end of a message.
        """
        with self._state:
            if self._closing:
                return
            self._closing = True
            goodbye = not self._broken
        imap = self._client._imap
        if goodbye:  # an interrupt() meanwhile shut the socket down: this send then fails
            try:
                imap.send(imap._new_tag() + b" LOGOUT\r\n")
            except Exception:  # noqa: BLE001 - closing must never raise
                pass
        with self._state:  # from here interrupt() leaves the socket alone
            self._closed = True
        try:
            self._client.shutdown()
        except Exception:  # noqa: BLE001
            pass

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- folders -------------------------------------------------------------------

    def list_folders(self) -> list[RawFolder]:
        with self._guard():
            rows = self._client.list_folders()
        return [
            RawFolder(
                name=as_text(name),
                delimiter=as_text(delim) if delim else None,
                flags=frozenset(as_text(f) for f in flags),
            )
            for flags, delim, name in rows
        ]

    def statuses(
        self, names: Sequence[str], *, modseq: bool = False
    ) -> dict[str, FolderStatus]:
        """STATUS of many folders, pipelined: all commands go out before the first answer
        is read, so a slow link costs one round trip instead of one per folder.

        Replies are matched to folders by the name they carry, not by their order (a
        server may answer pipelined commands' untagged data early).  A folder the server
        refuses, or whose reply cannot be read, is left out: the caller opens it later and
        reports what the server says then.

        With ``modseq``, HIGHESTMODSEQ is asked in the same command (no round trip more),
        only of a server that offers CONDSTORE (another may answer BAD, and every folder
        would look unknown).  Asking it enables CONDSTORE for the session (RFC 7162 3.1):
        later FETCH answers carry MODSEQ items, which the wire reader passes over.
        """
        if not names:
            return {}
        items = b" (MESSAGES UIDNEXT UIDVALIDITY"
        items += b" HIGHESTMODSEQ)\r\n" if modseq and self.has("CONDSTORE") else b")\r\n"
        imap = self._client._imap
        with self._guard():
            imap.untagged_responses.pop("STATUS", None)
            tags = []
            for name in names:
                tag = imap._new_tag()
                imap.send(
                    tag
                    + b" STATUS "
                    + self._client._normalise_folder(name)
                    + items
                )
                tags.append(tag)
            for tag in tags:
                try:
                    imap._command_complete("STATUS", tag)
                except imaplib.IMAP4.abort:
                    raise
                except imaplib.IMAP4.error:
                    continue  # BAD for this folder only: read the other answers
            replies = imap.untagged_responses.pop("STATUS", [])
        by_name = _status_replies(replies)
        return {
            name: by_name[_mailbox_key(name)] for name in names if _mailbox_key(name) in by_name
        }

    def create_folders(self, names: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """CREATE then SUBSCRIBE each folder, pipelined, in the given order (the server
        runs them in order, so parents listed first exist before their children).

        Returns, per name, the server's words when CREATE failed and when SUBSCRIBE failed
        (None when it worked).
        """
        imap = self._client._imap
        outcome: dict[str, tuple[str | None, str | None]] = {}
        with self._guard():
            tags = []
            for name in names:
                quoted = self._client._normalise_folder(name)
                create, subscribe = imap._new_tag(), imap._new_tag()
                imap.send(create + b" CREATE " + quoted + b"\r\n")
                imap.send(subscribe + b" SUBSCRIBE " + quoted + b"\r\n")
                tags.append((name, create, subscribe))
            for name, create, subscribe in tags:
                results: list[str | None] = []
                for command, tag in (("CREATE", create), ("SUBSCRIBE", subscribe)):
                    try:
                        typ, data = imap._command_complete(command, tag)
                    except imaplib.IMAP4.abort:
                        raise
                    except imaplib.IMAP4.error as exc:  # BAD
                        results.append(server_words(exc))
                        continue
                    words = as_text(data[0]) if data and data[0] else str(typ)
                    results.append(None if typ == "OK" else words)
                outcome[name] = (results[0], results[1])
        return outcome

    def examine_uids(self, name: str) -> tuple[FolderState, list[int]]:
        """EXAMINE ``name`` and list its UIDs in one pipelined exchange (one wait instead of
        two on a slow link).  Read-only, like :meth:`examine`."""
        imap = self._client._imap
        quoted = self._client._normalise_folder(name)
        with self._guard():
            imap.untagged_responses = {}  # as imaplib's select() does: forget the last folder
            imap.is_readonly = True
            examine, search = imap._new_tag(), imap._new_tag()
            imap.send(examine + b" EXAMINE " + quoted + b"\r\n" + search + b" UID SEARCH ALL\r\n")
            try:
                typ, data = imap._command_complete("EXAMINE", examine)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:  # BAD
                typ, data = "BAD", [server_words(exc).encode()]
            if typ != "OK":
                imap.state = "AUTH"
                # The SEARCH ran anyway (in no folder, or in the one still open after a
                # BAD): read its answer now so it is never taken for the next folder's.
                try:
                    imap._command_complete("SEARCH", search)
                except imaplib.IMAP4.abort:
                    raise
                except imaplib.IMAP4.error:
                    pass
                imap.untagged_responses.pop("SEARCH", None)
                words = as_text(data[0]) if data and data[0] else typ
                raise refusal(self.account.describe(), words)
            imap.state = "SELECTED"
            info = self._client._process_select_response(imap.untagged_responses)
            typ, data = imap._command_complete("SEARCH", search)
            found = imap.untagged_responses.pop("SEARCH", [])
        if typ != "OK":
            words = as_text(data[0]) if data and data[0] else typ
            raise refusal(self.account.describe(), words)
        uids = sorted({int(u) for line in found if line for u in line.split()})
        return _folder_state(info), uids

    def examine(self, name: str) -> FolderState:
        """Open ``name`` read-only (EXAMINE): nothing on it can change."""
        return self._open(name, readonly=True)

    def select(self, name: str) -> FolderState:
        return self._open(name, readonly=False)

    def _open(self, name: str, *, readonly: bool) -> FolderState:
        try:
            with self._guard():
                info = self._client.select_folder(name, readonly=readonly)
        except ServerError as exc:
            # A new account opened by two connections at once: Dovecot may answer one of
            # them "[ALREADYEXISTS] Mailbox already exists" while both create its INBOX.
            # The other made it: open it again, once.
            if "ALREADYEXISTS" not in str(exc).upper().replace(" ", ""):
                raise
            with self._guard():
                info = self._client.select_folder(name, readonly=readonly)
        return _folder_state(info)

    # --- messages ------------------------------------------------------------------

    def all_uids(self) -> list[int]:
        """UIDs of every message of the selected folder, ascending."""
        with self._guard():
            if self._client._imap.state != "SELECTED":  # pragma: no cover - defensive
                raise ServerError(f"{self.account.describe()}: no folder selected")
            uids = self._client.search("ALL")
        return sorted(int(u) for u in uids)

    def existing_uids(self, uids: Sequence[int]) -> list[int]:
        """Which of ``uids`` still exist in the selected folder (UID SEARCH UID ...)."""
        if not uids:
            return []
        with self._guard():
            found = self._client.search(["UID", ",".join(str(u) for u in uids)])
        return sorted(int(u) for u in found)

    def fetch(self, uids: Sequence[int], items: Sequence[str]) -> dict[int, FetchedMessage]:
        """UID FETCH ``items`` for ``uids``; BODY items must be PEEK (the source is read-only).

        Read with :mod:`wire`'s reader: IMAPClient's general parser costs more CPU than the
        copy itself.
        """
        if not uids:
            return {}
        with self._guard():
            typ, data = uid_fetch(self._client._imap, uid_set(uids), " ".join(items))
        if typ != "OK":
            words = as_text(data[0]) if data and data[0] else typ
            raise refusal(self.account.describe(), words)
        return parse_fetch(data)

    @property
    def can_append_many(self) -> bool:
        """MULTIAPPEND (RFC 3502): many messages in one command, all or none."""
        return self.has("MULTIAPPEND")

    @property
    def can_pipeline_appends(self) -> bool:
        """Whether one APPEND per message can be sent without waiting for each answer
        (LITERAL+, RFC 7888): what a server without MULTIAPPEND (Exchange) gets."""
        return self.has("LITERAL+")

    @property
    def can_append_nul(self) -> bool:
        """Whether a message holding NUL bytes can be appended.  A plain literal may not
        carry them (RFC 3501); :meth:`append_many` sends such a message as a binary literal
        (RFC 3516), streamed, when the server offers BINARY and LITERAL+."""
        return self.has("BINARY") and self.has("LITERAL+") and self.can_append_many

    def append_many(self, folder: str, messages: Sequence[OutgoingMessage]) -> None:
        """APPEND ``messages`` to ``folder`` in one MULTIAPPEND command.

        With LITERAL+ (RFC 7888) the messages stream without waiting for the server
        between them: one round trip for the whole batch, and each message is written
        straight from its buffer (no copy).  The command is atomic: when the server
        refuses one message, none is stored and ``ServerError`` says why.
        """
        with self._guard():
            if self.has("LITERAL+"):
                typ, data = multiappend_streamed(
                    self._client._imap,
                    self._client._normalise_folder(folder),
                    messages,
                    binary_allowed=self.has("BINARY"),
                )
            else:
                typ, data = self._client.multiappend(
                    folder,
                    [
                        {"msg": m.raw, "flags": m.flags, "date": m.internal_date}
                        if m.internal_date is not None
                        else {"msg": m.raw, "flags": m.flags}
                        for m in messages
                    ],
                )
        if typ != "OK":
            words = as_text(data[0]) if data and data[0] else typ
            raise refusal(self.account.describe(), words)

    def append_each(
        self, folder: str, messages: Sequence[OutgoingMessage]
    ) -> list[ServerError | ServerBusyError | None]:
        """One APPEND per message, all sent before the first answer is read (the server
        must offer LITERAL+): for each message in order, None when it was stored, else why
        the server refused it (``ServerBusyError`` when it asked to try again later)."""
        with self._guard():
            answers = appends_pipelined(
                self._client._imap,
                self._client._normalise_folder(folder),
                messages,
                binary_allowed=self.has("BINARY"),
            )
        outcomes: list[ServerError | ServerBusyError | None] = []
        for typ, data in answers:
            words = as_text(data[0]) if data and isinstance(data[0], bytes) else typ
            outcomes.append(None if typ == "OK" else refusal(self.account.describe(), words))
        return outcomes

    def append(
        self, folder: str, message: bytes, flags: Iterable[str], internal_date: datetime | None
    ) -> int | None:
        """APPEND one message, its bytes as they are (see :func:`~bulk.append_one`); return
        its new UID when the server says (UIDPLUS)."""
        with self._guard():
            typ, data = append_one(
                self._client._imap,
                self._client._normalise_folder(folder),
                OutgoingMessage(message, tuple(flags), internal_date),
            )
        response = data[0] if data and isinstance(data[0], bytes) else b""
        if typ != "OK":
            raise refusal(self.account.describe(), as_text(response) or typ)
        match = _APPENDUID.search(response)
        return int(match.group(2)) if match else None


def _login_can_carry(text: str) -> bool:
    """LOGIN's quoted strings carry printable ASCII only: imaplib encodes them as ASCII, and
    a line break would end the command in the middle of the password (the rest read as a
    command of its own).  AUTHENTICATE PLAIN carries anything, in base64."""
    return text.isascii() and text.isprintable()


def _start_tls(client: IMAPClient, account: Account) -> None:
    """STARTTLS, or an error: never a login on the unencrypted connection."""
    try:
        client.starttls(_ssl_context(account))
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:  # NO or BAD: refused (by the server, or in between)
        raise StartTlsUnavailableError(
            f"{account.describe()}: the server refused STARTTLS ({server_words(exc)}); "
            "choose TLS (usually port 993), or plain only if you accept an unencrypted "
            "connection"
        ) from exc


def _log_in(
    client: IMAPClient,
    account: Account,
    token: str | None = None,
    interrupter: Interrupter | None = None,
) -> None:
    """LOGIN, or AUTHENTICATE PLAIN when the login or password is not printable ASCII (or
    when PLAIN is asked for); with OAuth2, AUTHENTICATE XOAUTH2 or OAUTHBEARER.

    LOGIN can only carry ASCII (imaplib encodes it so); PLAIN carries UTF-8.  ``token`` is
    the OAuth2 access token when it was fetched already.
    """
    if account.auth.uses_token:
        answer = _oauth2_login(
            client, account, token or fetch_token(account, interrupter=interrupter), interrupter
        )
    elif (
        account.auth is AuthMethod.PASSWORD
        and _login_can_carry(account.login)
        and _login_can_carry(account.password)
    ):
        answer = client.login(account.login, account.password)
    elif client.has_capability("AUTH=PLAIN"):
        answer = client.plain_login(account.login, account.password)
    elif account.auth is AuthMethod.PLAIN:
        raise AuthError(
            f"{account.describe()}: the server does not offer AUTHENTICATE PLAIN "
            "(AUTH=PLAIN); sign in with LOGIN instead"
        )
    else:
        raise AuthError(
            f"{account.describe()}: the login or password has non-ASCII or control characters "
            "and the server offers no way to send them (AUTH=PLAIN)"
        )
    # Most servers state their capabilities in the login answer ("[CAPABILITY ...]"):
    # remember them, which spares a CAPABILITY round trip.
    found = _CAPABILITY_CODE.search(answer if isinstance(answer, bytes) else b"")
    if found:
        client._cached_capabilities = tuple(found.group(1).upper().split())


def _oauth2_login(
    client: IMAPClient, account: Account, token: str, interrupter: Interrupter | None
) -> bytes:
    """AUTHENTICATE with ``token``; when the server refuses it, once more with a token
    fetched again (unless it is the same), then ``AuthError``."""
    where = account.describe()
    capabilities = frozenset(as_text(c).upper() for c in client.capabilities())
    try:
        mechanism = oauth2.mechanism(account, capabilities)
    except oauth2.NoMechanism as exc:
        raise AuthError(f"{where}: {exc}") from None
    for attempt in (1, 2):
        exchange = oauth2.SaslExchange(mechanism, account.login, token)
        try:
            _typ, data = client._imap.authenticate(mechanism, exchange)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            # A server has no reason to quote the token; should one do so, it stays out.
            words = server_words(exc, hide=token)
            busy = busy_answer(where, words)
            if busy is not None:  # "[UNAVAILABLE]": the token service is down, say
                raise busy from None
            fresh = fetch_token(account, interrupter=interrupter) if attempt == 1 else token
            if fresh == token:  # a second try, or the same token again: no use
                raise AuthError(
                    oauth2.refused_message(account, words, exchange.error_status)
                ) from None
            token = fresh
        else:
            return data[-1] if data and isinstance(data[-1], bytes) else b""
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _round_trip(client: IMAPClient, tries: int) -> float:
    """The link's round trip in seconds: the fastest of ``tries`` NOOPs, which the server
    answers doing next to nothing.  (The login exchange is no measure: Dovecot takes some
    10 ms to log in on loopback.)"""
    best = float("inf")
    for _ in range(tries):
        started = time.monotonic()
        client._imap._simple_command("NOOP")
        best = min(best, time.monotonic() - started)
    return best


def _start_compression(
    session: ImapSession, client: IMAPClient, mode: Compression
) -> CompressionOutcome:
    """``COMPRESS DEFLATE`` when ``mode`` asks for it and the server offers it; from its OK
    on, the connection is compressed both ways (see :mod:`compress`).

    ``auto`` measures the link first (two round trips; the copier measures the first
    connection of each side only, see ``Copier._open_both``).  A refusal (NO, e.g.
    ``[COMPRESSIONACTIVE]``, or BAD) leaves the connection as it was; the outcome says so,
    with the server's words.
    """
    if mode is Compression.OFF:
        return _NOT_ASKED
    if not client.has_capability("COMPRESS=DEFLATE"):
        return CompressionOutcome(CompressionResult.NOT_OFFERED)
    if mode is Compression.AUTO and session.round_trip() < SLOW_LINK_SECONDS:
        return _NOT_ASKED
    imap = client._imap
    tag = imap._new_tag()
    imap.send(tag + b" COMPRESS DEFLATE\r\n")
    try:
        typ, data = imap._command_complete("COMPRESS", tag)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:  # BAD
        return CompressionOutcome(CompressionResult.REJECTED, printable_line(server_words(exc)))
    if typ == "OK":
        compress.wrap(imap)
        return CompressionOutcome(CompressionResult.COMPRESSED)
    words = as_text(data[-1]) if data and isinstance(data[-1], bytes) else ""
    return CompressionOutcome(CompressionResult.REFUSED, printable_line(words))


def open_session(
    account: Account,
    *,
    timeouts: Timeouts = Timeouts(),
    on_step: Callable[[ConnectStep], None] | None = None,
    compression: Compression = Compression.OFF,
    interrupter: Interrupter | None = None,
) -> ImapSession:
    """Connect, secure and log in to ``account``; report each visible step to ``on_step``.

    With ``compression`` (on, or auto over a slow link), the connection is then compressed
    when the server offers it; :attr:`ImapSession.compressed` says whether it is, and
    :attr:`ImapSession.compression` why not.

    With ``interrupter``, the connection is watched from the greeting on: tripped, it cuts
    a login waiting for a server that stopped answering, and ``ConnectionInterrupted``
    is raised; a stop while the TCP connection is made or the greeting awaited is not
    waited for either (see :func:`make_interruptibly`).
    """
    step = on_step or (lambda _step: None)
    step(ConnectStep.CONNECTING)
    client: IMAPClient | None = None
    session: ImapSession | None = None
    if interrupter is not None and interrupter.tripped:
        raise ConnectionInterrupted(STOPPED)
    try:
        # Before connecting: a token command may take a while, and a server waits for a
        # login only so long.  A token that cannot be had makes no connection at all.
        token = (
            fetch_token(account, interrupter=interrupter) if account.auth.uses_token else None
        )

        def connect() -> IMAPClient:
            return IMAPClient(
                account.host,
                port=account.port,
                ssl=account.security is Security.TLS,
                ssl_context=_ssl_context(account) if account.security is Security.TLS else None,
                timeout=SocketTimeout(connect=timeouts.connect, read=timeouts.read),
            )

        if interrupter is None:
            client = connect()
        else:  # a stop does not wait for the TCP connection and the greeting
            client = make_interruptibly(connect, interrupter, _shut_unused)
        session = ImapSession(account, client)
        if interrupter is not None:
            interrupter.watch(session)
        client.normalise_times = False  # keep INTERNALDATE offsets as the server gave them
        # IMAPClient turns imaplib's debugging on (level 5) and sends it to a logger: imaplib
        # then builds the repr of every response, whole messages included, and of every
        # command, LOGIN and its password included, even when nothing is logged.
        # Level 0 skips that work (several times the copy's own CPU on large mail).
        client._imap.debug = 0
        trace.attach(client._imap, account)  # only with --debugimap: secrets masked there
        if account.security is Security.STARTTLS:
            if not client.has_capability("STARTTLS"):
                raise StartTlsUnavailableError(
                    f"{account.describe()}: the server does not offer STARTTLS; "
                    "choose TLS (usually port 993), or plain only if you accept an "
                    "unencrypted connection"
                )
            _start_tls(client, account)
        _log_in(client, account, token, interrupter)
        session.compression = _start_compression(session, client, compression)
    except (
        OSError, EOFError, imaplib.IMAP4.error, ssl.SSLError, ConnectError, AuthError, ConfigError
    ) as exc:
        if session is not None:
            session.close()
            if session.interrupted:  # cut by the interrupter: not a failure to connect
                raise ConnectionInterrupted(STOPPED) from exc
        elif client is not None:
            ImapSession(account, client).close()
        raise translate(account, exc, established=False) from exc
    except BaseException:
        if session is not None:  # Ctrl+C during the login: the stream is mid-command
            session.interrupt()
            session.close()
        raise
    step(ConnectStep.AUTHENTICATED)
    return session


def _shut_unused(client: IMAPClient) -> None:
    """Close a connection made after the job stopped, without a word to the server."""
    try:
        client.shutdown()
    except OSError:
        pass


def test_connection(
    account: Account,
    *,
    timeouts: Timeouts = Timeouts(),
    on_step: Callable[[ConnectStep], None] | None = None,
) -> frozenset[str]:
    """Connect and log in, then log out; return the server's capabilities.

    Raises the precise :class:`~imapcopy_tui.errors.ConnectError` or ``AuthError``.
    """
    with open_session(account, timeouts=timeouts, on_step=on_step) as session:
        return session.capabilities


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
