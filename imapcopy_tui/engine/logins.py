"""Logging in the copier's connection pairs.

Both accounts of a pair log in at once (over a slow link each login is several round
trips); every connection is cut by the job's interrupter when the job stops, the login
included.  The first pair settles what the others follow: whether ``auto`` compression is
on for each side, and how many pairs the job takes (see
:meth:`LoginMixin._settle_connections`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.interrupt import Interrupter
from imapcopy_tui.engine.options import FAST_LINK_CONNECTIONS, CopyOptions
from imapcopy_tui.engine.progress import CopyIssue, Severity
from imapcopy_tui.engine.session import (
    SLOW_LINK_SECONDS,
    Compression,
    CompressionOutcome,
    CompressionResult,
    ImapSession,
    Timeouts,
)

# How the copier opens a connection: open_session, or a test's wrapper around it.
Connector = Callable[..., ImapSession]


class LoginMixin:
    """Opening the pairs (see the module docstring)."""

    options: CopyOptions
    source: Account
    destination: Account
    _lock: threading.Lock
    _interrupter: Interrupter
    _connect: Connector
    _compression: dict[str, Compression]  # per side; auto until the first pair settles it
    _connections: int  # pairs for this job
    _connections_settled: bool
    _issue: Callable[[CopyIssue], None]

    def _settle_connections(self, src: ImapSession, dst: ImapSession) -> None:
        """How many pairs the job uses, unless the options say: FAST_LINK_CONNECTIONS when
        both links of the first pair answer within SLOW_LINK_SECONDS, else
        DEFAULT_CONNECTIONS.  Asked once there is mail to copy: a re-run of an unchanged
        mailbox measures nothing.

        Over a fast link a pair hardly waits: two keep both servers busy, and each more
        costs both servers a login and the copy CPU for nothing.  Over a slow one the
        pairs are what hides the round trips.
        """
        if self._connections_settled:
            return
        if not (isinstance(src, ImapSession) and isinstance(dst, ImapSession)):
            self._connections_settled = True  # a test's stand-in: nothing to measure
            return
        # Both links at once, one NOOP each: a slow link pays one round trip for this, and
        # a late answer on a fast link (this process busy) only keeps the default.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="measure") as helper:
            destination = helper.submit(dst.round_trip, 1)
            try:
                fast = max(src.round_trip(1), destination.result()) < SLOW_LINK_SECONDS
            except BaseException as exc:
                if not isinstance(exc, Exception):  # Ctrl+C: the other is not waited for
                    self._interrupter.trip()
                raise  # a lost connection: the planning pair reconnects and measures again
        self._connections_settled = True
        if fast:
            self._connections = self._within_limit(FAST_LINK_CONNECTIONS)

    def _within_limit(self, pairs: int) -> int:
        """``pairs``, or fewer when the engine chooses and a provider allows fewer (an
        explicit ``connections`` is taken as given: the front end warned)."""
        limit = self.options.connection_limit
        if self.options.connections is None and limit is not None:
            return max(1, min(pairs, limit))
        return pairs

    def _open_both(self) -> tuple[ImapSession, ImapSession]:
        """Log in to both accounts at once: over a slow link each login is several round
        trips, and the two need not wait for each other."""
        timeouts = self.options.timeouts
        with self._lock:
            compression = dict(self._compression)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="login") as helper:
            destination = helper.submit(
                self._connected,
                self.destination,
                timeouts=timeouts,
                compression=compression["destination"],
            )
            try:
                src = self._connected(
                    self.source, timeouts=timeouts, compression=compression["source"]
                )
            except BaseException as exc:
                if not isinstance(exc, Exception):  # Ctrl+C: the job is going away
                    self._interrupter.trip()  # the destination's login is not waited for
                try:
                    destination.result().close()
                except BaseException:  # noqa: BLE001 - the source's error is the one to show
                    pass
                raise
        try:
            dst = destination.result()
        except BaseException:
            src.close()
            raise
        refusals = (CompressionResult.REFUSED, CompressionResult.REJECTED)
        for side, session in (("source", src), ("destination", dst)):
            if compression[side] is Compression.AUTO:
                with self._lock:
                    self._compression[side] = (
                        Compression.ON if session.compressed else Compression.OFF
                    )
            # On: any connection left uncompressed.  Auto: one the slow link asked to be
            # compressed and the server refused (the others then do not ask).
            if (self.options.compress is Compression.ON and not session.compressed) or (
                compression[side] is Compression.AUTO
                and session.compression.result in refusals
            ):
                self._issue(  # one warning per side: _issue keeps one
                    CopyIssue(
                        f"the {side} server {_why_uncompressed(session.compression)}; "
                        "copying uncompressed",
                        severity=Severity.WARNING,
                    )
                )
        return src, dst

    def _connected(
        self, account: Account, *, timeouts: Timeouts, compression: Compression
    ) -> ImapSession:
        """A connection the interrupter cuts when the job stops, the login included."""
        session = self._connect(
            account, timeouts=timeouts, compression=compression, interrupter=self._interrupter
        )
        if isinstance(session, ImapSession):  # a test's connector may wrap the one it opened
            self._interrupter.watch(session)
        return session


def _why_uncompressed(outcome: CompressionOutcome) -> str:
    """What the server did to a connection left uncompressed though compression was on:
    not offering it is usual, refusing it once offered is the server's own choice."""
    if outcome.result is CompressionResult.REFUSED:
        refused = "refused it"
    elif outcome.result is CompressionResult.REJECTED:
        refused = "refused it as a bad command"
    else:
        return "does not offer compression (COMPRESS=DEFLATE)"
    words = f" ({outcome.server_words})" if outcome.server_words else ""
    return f"offers compression (COMPRESS=DEFLATE) but {refused}{words}"
