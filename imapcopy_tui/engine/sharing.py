"""Connections beyond one per folder: pairs logged in ahead, and helpers for large folders.

While planning finishes, the extra pairs a job will need log in (once STATUS shows mail to
copy).  Once every folder is taken, a pair with nothing left lends its source connection to
a folder still being copied: it fetches that folder's batches ahead through the folder's
:class:`~imapcopy_tui.engine.feed.FolderFeed`, and the folder's own pair appends them in
order.  These are the :class:`~imapcopy_tui.engine.copier.Copier`'s methods for it; the
mixin only uses the attributes declared below, which the Copier sets up.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from imapcopy_tui.engine.folders import Folder
from imapcopy_tui.engine.options import CopyOptions
from imapcopy_tui.engine.pacing import BatchSizer
from imapcopy_tui.engine.session import ImapSession
from imapcopy_tui.engine.transfer import Feed
from imapcopy_tui.errors import AuthError, ConnectError, ServerError

# A folder of fewer batches is not worth another connection's EXAMINE.
HELP_FROM_BATCHES = 3


def close_pair(sessions: tuple[ImapSession, ImapSession]) -> None:
    for session in sessions:
        session.close()


class SharingMixin:
    """Pairs logged in ahead and helpers (see the module docstring)."""

    options: CopyOptions
    _connections: int  # pairs for this job (see logins.LoginMixin._settle_connections)
    _lock: threading.Lock
    # On _lock; notified when what a waiting pair waits for moves (a folder settles, a feed
    # is offered, an extra pair ends its login, a folder is given back): it then goes on
    # at once instead of at its next look.
    _changed: threading.Condition
    # The longest a waiting pair goes without looking again (and at the cancel).
    _recheck_seconds: float = 0.05
    _local: threading.local
    _batch_size: BatchSizer
    _feeds: list[Feed]  # folders being appended whose fetches others may share
    _starting: int  # folders taken by a pair that has not offered their feed yet
    _preopened: deque[Future[tuple[ImapSession, ImapSession]]]
    _preopening: ThreadPoolExecutor | None

    # Declared, not defined: this mixin comes first among the Copier's bases (its methods
    # replace the other mixins' no-op hooks), so a stub here would hide the real ones.
    _check_cancel: Callable[[], None]
    _open_both: Callable[[], tuple[ImapSession, ImapSession]]
    _settle_connections: Callable[[ImapSession, ImapSession], None]
    fetch_for: Callable[..., None]  # transfer.TransferMixin.fetch_for

    def _shared(self, messages: int) -> bool:
        """Whether a folder of this many messages is cut into enough batches for other
        connections to fetch some (see transfer._batches): then it gets every allowed
        connection, even with fewer folders than connections."""
        return messages > self._batch_size.count

    def _mark_start(self) -> None:
        """This pair is opening a folder: helpers wait for its feed (see _help)."""
        if not getattr(self._local, "starting", False):
            self._local.starting = True
            with self._lock:
                self._starting += 1

    def _settle_start(self) -> None:
        """This pair's folder has offered its feed, or will not: helpers need not wait."""
        if getattr(self._local, "starting", False):
            self._local.starting = False
            with self._lock:
                self._starting -= 1
                self._changed.notify_all()

    def _offer_help(self, feed: Feed) -> None:
        if self._connections > 1 and len(feed) >= HELP_FROM_BATCHES:
            with self._lock:
                self._feeds.append(feed)
                self._changed.notify_all()
        self._settle_start()

    def _withdraw_help(self, feed: Feed) -> None:
        with self._lock:
            if feed in self._feeds:
                self._feeds.remove(feed)

    def _help_wanted(self) -> bool:
        with self._lock:
            return self._connections > 1 and bool(self._feeds or self._starting)

    def _help(self, src: ImapSession | None) -> None:
        """Lend a source connection to folders other pairs are still appending: fetch their
        batches ahead while enough are left to be worth opening the folder.

        Helping only fetches; the folder's own pair appends and counts.  A failure here
        costs speed, never mail: the batch goes back to the folder's own fetcher, and this
        connection simply stops helping.  A pair that never had a folder uses the source
        half of a pair logged in ahead (see _expect_work), or does not help: those were
        counted for the job, and one more would exceed ``_connections``.
        """
        own = src is None
        try:
            if src is None:
                pair = self._take_preopened()
                if pair is None:
                    return
                src = pair[0]
                pair[1].close()  # a helper only fetches
            tried: list[Feed] = []
            while True:
                self._check_cancel()
                with self._lock:
                    feeds = [f for f in self._feeds if f not in tried]
                    starting = self._starting
                left, feed = max(
                    ((f.unclaimed, f) for f in feeds), key=lambda c: c[0], default=(0, None)
                )
                if feed is None or left < HELP_FROM_BATCHES - 1:
                    if starting:  # a folder is being opened: its feed may need help
                        with self._lock:
                            # Only if nothing moved since the look above: a feed offered
                            # in between would otherwise wait for the next look.
                            unchanged = feeds == [f for f in self._feeds if f not in tried]
                            if self._starting and unchanged:
                                self._changed.wait(self._recheck_seconds)
                        continue
                    return
                tried.append(feed)
                state = src.examine(feed.folder)  # read-only, like every source open
                if state.uidvalidity == feed.uidvalidity:
                    self.fetch_for(feed, src)
        except (AuthError, ConnectError, ServerError):
            return  # this connection is done helping; the folders' pairs carry on
        finally:
            if own and src is not None:
                src.close()

    def _expect_work(
        self, folders: Sequence[tuple[Folder, int]], src: ImapSession, dst: ImapSession
    ) -> None:
        """Log in the extra pairs while planning finishes (CREATE, the destination's
        STATUS): over a slow link that is several round trips they need not wait for.

        Only when STATUS shows mail to copy, so a re-run of an unchanged mailbox opens
        nothing more; pairs not taken in the end are closed (see _close_preopened).
        """
        if self._preopening is not None or self.options.dry_run or not folders:
            return
        self._settle_connections(src, dst)
        large = any(self._shared(messages) for _, messages in folders)
        extra = min(self._connections, len(folders)) - 1
        if large:
            extra = self._connections - 1
        if extra <= 0:
            return
        self._preopening = ThreadPoolExecutor(max_workers=extra, thread_name_prefix="login")
        with self._lock:
            self._preopened.extend(self._preopening.submit(self._open_both) for _ in range(extra))

    def _take_preopened(self) -> tuple[ImapSession, ImapSession] | None:
        """A pair logged in ahead (waiting for its login to finish), or None; its login
        error, if it failed, is raised here as ``_open_both`` would."""
        with self._lock:
            if not self._preopened:
                return None
            future = self._preopened.popleft()
        return future.result()

    def _close_preopened(self) -> None:
        with self._lock:
            left = list(self._preopened)
            self._preopened.clear()
        for future in left:
            try:
                close_pair(future.result())
            except Exception:  # noqa: BLE001 - an unused login's failure changes nothing
                pass
        if self._preopening is not None:
            self._preopening.shutdown(wait=True)
