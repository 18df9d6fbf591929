"""The copier: every source folder into the destination, message by message, resumably.

One connection pair plans the job (see :mod:`planning`: folders, namespaces, mapping,
STATUS of every folder, missing folders created parents first) and settles the folders
that need nothing; then the job's pairs (``CopyOptions.connections``, else chosen by the
link's speed, see :mod:`logins`) take the other folders, largest first, each folder
appended by one pair (the per-folder steps live in :mod:`transfer`; pairs with nothing
left fetch ahead for others, see :mod:`sharing`):

1. EXAMINE the source (read-only), SELECT the destination;
2. skip the source UIDs the ledger already knows (same UIDVALIDITY on both sides);
3. for the others, compare fingerprints (see :mod:`identity`) with the destination's
   messages, as a multiset, so mail already there is not copied twice;
4. fetch the rest with ``BODY.PEEK[]`` in UID order and APPEND them (MULTIAPPEND per
   batch where offered) with flags, keywords and INTERNALDATE, recording them in the ledger.

Errors follow a severity ladder: a refused message is recorded and the copy goes on; a
folder that cannot be created or opened is recorded and the next one starts; a lost
connection is reopened with back-off a bounded number of times and the folder resumes; a
login failure ends the job at once.

A stop (the cancel event, Ctrl+C) or a pair failing the job cuts every connection of the
job (:class:`~imapcopy_tui.engine.interrupt.Interrupter`): a thread waiting for a server that
stopped answering stops at once, not after the read timeout.  What was appended and not
yet recorded is found on the destination by the next run, as after a lost connection.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from imapcopy_tui.engine.account import Account, check_distinct
from imapcopy_tui.engine.budget import ByteBudget, HeapKeeper
from imapcopy_tui.engine.folders import INBOX, Folder
from imapcopy_tui.engine.interrupt import STOPPED, Interrupter
from imapcopy_tui.engine.ledger import (
    FolderPair,
    FolderSnapshot,
    Ledger,
    LedgerEntry,
    LedgerScope,
)
from imapcopy_tui.engine.logins import Connector, LoginMixin
from imapcopy_tui.engine.options import DEFAULT_CONNECTIONS, CopyOptions
from imapcopy_tui.engine.pacing import MAX_SUGGESTED_WAIT, BatchSizer, Pacer, RateLimit
from imapcopy_tui.engine.planning import PlanningMixin
from imapcopy_tui.engine.progress import (
    CopyIssue,
    CopyListener,
    CopyResult,
    FolderCounts,
    MessageOutcome,
    Severity,
)
from imapcopy_tui.engine.report import build_report
from imapcopy_tui.engine.session import (
    FolderState,
    FolderStatus,
    ImapSession,
    open_session,
)
from imapcopy_tui.engine.sharing import SharingMixin, close_pair
from imapcopy_tui.engine.transfer import Feed, SourceMessage, TransferMixin
from imapcopy_tui.errors import (
    AuthError,
    ConnectError,
    ConnectionInterrupted,
    CopyCancelled,
    ServerBusyError,
    ServerError,
)

# The engine's front door: front ends import the copier and its options from here.
__all__ = ["Connector", "Copier", "CopyOptions"]


class _Aborted(Exception):
    """Another connection pair failed the job: this one stops quietly."""


class _Serialised(CopyListener):
    """Calls a listener from one thread at a time: the pairs copy in parallel."""

    def __init__(self, inner: CopyListener) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def plan_ready(self, folders: Sequence[Folder], counts: Sequence[FolderCounts]) -> None:
        with self._lock:
            self._inner.plan_ready(folders, counts)

    def folder_started(self, counts: FolderCounts) -> None:
        with self._lock:
            self._inner.folder_started(counts)

    def message_done(
        self, counts: FolderCounts, uid: int, outcome: MessageOutcome, size: int
    ) -> None:
        with self._lock:
            self._inner.message_done(counts, uid, outcome, size)

    def folder_done(self, counts: FolderCounts) -> None:
        with self._lock:
            self._inner.folder_done(counts)

    def issue(self, issue: CopyIssue) -> None:
        with self._lock:
            self._inner.issue(issue)

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        with self._lock:
            self._inner.reconnecting(attempt, delay, reason)

    def waiting(self, delay: float, reason: str) -> None:
        with self._lock:
            self._inner.waiting(delay, reason)


class Copier(SharingMixin, PlanningMixin, TransferMixin, LoginMixin):
    """Copies one account into another.  One instance runs one job, from one thread."""

    def __init__(
        self,
        source: Account,
        destination: Account,
        ledger: Ledger,
        listener: CopyListener | None = None,
        options: CopyOptions | None = None,
        cancel: threading.Event | None = None,
        connect: Connector = open_session,
        budget: ByteBudget | None = None,
    ) -> None:
        self.source = replace(source, role="source")
        self.destination = replace(destination, role="destination")
        self.ledger = ledger
        self.listener: CopyListener = _Serialised(listener or CopyListener())
        self.options = options or CopyOptions()
        self.cancel = cancel or threading.Event()
        self._connect = connect
        # Pairs for this job: what the options say, or settled on the first pair's links.
        self._connections_settled = self.options.connections is not None
        self._connections = self._within_limit(
            DEFAULT_CONNECTIONS if self.options.connections is None else self.options.connections
        )
        self.result = CopyResult(dry_run=self.options.dry_run)
        self._drops: dict[tuple[str, int], int] = {}
        self._quota_refusals = 0
        self._careful_folders: set[str] = set()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # see SharingMixin._changed
        self._abort = threading.Event()  # set when one pair fails the job
        # Every connection of the job, cut at once when it stops (cancel, or a pair failing
        # the job): a thread blocked reading from a stalled server returns then, instead
        # of after the read timeout.
        self._interrupter = Interrupter()
        self._opening = 0  # extra pairs logging in right now
        self._local = threading.local()  # per pair: what is being sent right now
        self._destination_folders: set[str] = set()
        self._source_status: dict[str, FolderStatus] = {}  # from planning
        self._destination_status: dict[str, FolderStatus] = {}
        # Compression per side: auto is settled on (on or off) by the first connection of
        # the side (its link measured while nothing else runs), and the others follow it.
        self._compression = {
            "source": self.options.compress,
            "destination": self.options.compress,
        }
        # ``budget``, like ``connect``, lets a test watch the engine: here, what it still
        # holds each time it gives bytes back.
        self._budget = (
            budget if budget is not None
            else ByteBudget(self.options.memory_budget_bytes, HeapKeeper())
        )
        self._size_limit: int | None = None  # the largest message the destination takes
        rate = self.options.max_bytes_per_second
        self._rate_limit = RateLimit(rate) if rate else None
        self._unlabelled_only: frozenset[str] = frozenset()  # Gmail's All Mail, labels off
        self._labelled: Counter[str] | None = None  # identities in Gmail's label folders
        self._label_folders: list[Folder] = []
        self._source_pacer = Pacer(self.options.backoff_seconds, self.options.max_backoff_seconds)
        self._destination_pacer = Pacer(
            self.options.backoff_seconds, self.options.max_backoff_seconds
        )
        self._batch_size = BatchSizer(
            self.options.fetch_batch_count, self.options.fetch_batch_bytes
        )
        self._feeds: list[Feed] = []  # folders being appended whose fetches others may share
        self._starting = 0  # folders taken by a pair that has not offered their feed yet
        # Extra pairs logging in while planning finishes (see _expect_work).
        self._preopened: deque[Future[tuple[ImapSession, ImapSession]]] = deque()
        self._preopening: ThreadPoolExecutor | None = None

    # --- the job -------------------------------------------------------------------

    def run(self) -> CopyResult:
        """Copy everything; return what happened.

        One connection pair plans the job and creates the missing folders (parents first);
        then the job's pairs (see :mod:`logins`) copy folders in parallel, largest first,
        each folder appended by one pair in source UID order (others may fetch ahead for
        it, see :mod:`sharing`).  Raises ``AuthError`` or a ``ConnectError`` when the
        job cannot go on, ``SameAccountError`` before any connection when both sides are
        one account, and ``CopyCancelled`` when the cancel event was set.
        """
        check_distinct(self.source, self.destination)
        with self._cutting_on_cancel():
            try:
                return self._run()
            except ConnectionInterrupted as exc:  # planning's connections, cut by the cancel
                raise CopyCancelled(STOPPED) from exc
            except BaseException:
                # The job is over (Ctrl+C, or an error): logins still under way are cut
                # rather than waited for.
                self._interrupter.trip()
                raise
            finally:
                self._close_preopened()  # when planning or the pairs failed

    @contextmanager
    def _cutting_on_cancel(self) -> Iterator[None]:
        """While the job runs, a thread looks at the cancel event and then cuts every
        connection (the event is set by a signal handler or another thread, which must
        not wait for anything).

        The thread sleeps on the end of the job, not on the cancel: the end is then not
        delayed (it was, by up to the 0.1 s of a wait on the cancel), and a stop waits at
        most 0.1 s to be seen.
        """
        over = threading.Event()

        def watch() -> None:
            while not over.wait(0.1):
                if self.cancel.is_set():
                    self._interrupter.trip()
                    return

        watcher = threading.Thread(target=watch, name="cancel-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            over.set()
            watcher.join()

    def _stop_all(self) -> None:
        """The job cannot finish: the other pairs stop, even those waiting for a server."""
        self._abort.set()
        self._interrupter.trip()

    def _run(self) -> CopyResult:
        first, plan = self._plan_with_retries()
        queue = []
        for folder, counts in plan:
            if folder.selectable and counts.error is None:
                if not (self._skip_empty(folder, counts) or self._skip_unchanged(folder, counts)):
                    queue.append((folder, counts))
            elif not counts.done:  # a \Noselect parent: created, nothing to copy
                counts.done = True
                self.listener.folder_done(counts)
        # Largest first (by the message count STATUS gave): a big folder started last
        # would leave the other pairs idle at the end.  Stable, so equals keep plan order.
        queue.sort(key=lambda item: -item[1].total)
        # A large folder is worth every allowed connection: pairs left without a folder
        # fetch its batches ahead (see _help).
        large = not self.options.dry_run and any(
            self._shared(counts.total) for _, counts in queue
        )
        if queue and not self.options.dry_run:
            # Usually settled already (see _expect_work); not when only folders STATUS
            # could not show as needing a copy are left (a destination emptied since).
            self._settle_connections(*first)
        workers = max(1, min(self._connections, len(queue)))
        if large:
            workers = max(1, self._connections)
        pending = deque(queue)
        firsts: list[tuple[ImapSession, ImapSession] | None] = [first] + [None] * (workers - 1)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="copy")
        try:
            futures = [
                pool.submit(self._work, pending, sessions, sessions is None) for sessions in firsts
            ]
            wait(futures)
        except BaseException:
            self._stop_all()  # Ctrl+C in this thread: stop the pairs, then give up
            raise
        finally:
            pool.shutdown(wait=True)
            self._close_preopened()
        for future in futures:
            error = future.exception()
            if error is not None and not isinstance(error, _Aborted):
                raise error
        if pending:  # given back by extra pairs that could not log in after the others left
            self._work(pending, None)
        self._note_throttling()
        if self.options.send_report and not self.options.dry_run:
            self._append_report()
        self.result.finished_at = datetime.now(self.result.started_at.tzinfo)
        return self.result

    def preview(self) -> CopyResult:
        """The plan alone, for a person to check before copying: each folder with where it
        goes and why (``FolderCounts.note``), its message count from STATUS, whether it
        would be created, and what is skipped (warnings).  Nothing is read or created."""
        self.options = replace(self.options, dry_run=True)
        self.result.dry_run = True
        with self._cutting_on_cancel():
            try:
                sessions = self._open_both()
                try:
                    self._plan(*sessions)
                finally:
                    close_pair(sessions)
            except ConnectionInterrupted as exc:
                raise CopyCancelled(STOPPED) from exc
        return self.result

    def _back_off(self, exc: ConnectError, failures: int) -> None:
        """Wait before reconnecting, or give up (re-raise) past ``max_reconnects``."""
        if failures > self.options.max_reconnects:
            raise exc
        delay = min(
            self.options.backoff_seconds * 2 ** (failures - 1), self.options.max_backoff_seconds
        )
        if isinstance(exc, ServerBusyError) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, MAX_SUGGESTED_WAIT))
        self.listener.reconnecting(failures, delay, str(exc))
        self._sleep(delay)

    def _sleep(self, seconds: float) -> None:
        """Wait, waking up for a cancel and for another pair failing the job."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.cancel.wait(min(left, 0.2)):
                raise CopyCancelled(STOPPED)
            self._check_cancel()
        self._check_cancel()

    def _note_throttling(self) -> None:
        for side, pacer in (
            ("source", self._source_pacer),
            ("destination", self._destination_pacer),
        ):
            stats = pacer.stats
            if stats.busy_answers:
                self._issue(
                    CopyIssue(
                        f"the {side} server asked to wait {stats.busy_answers} times; the copy "
                        f"waited {stats.waited_seconds:.0f} s in all and slowed down "
                        f"(last answer: {stats.last_reason})",
                        severity=Severity.WARNING,
                    )
                )

    def _plan_with_retries(
        self,
    ) -> tuple[tuple[ImapSession, ImapSession], list[tuple[Folder, FolderCounts]]]:
        failures = 0
        while True:
            sessions = None
            try:
                sessions = self._open_both()
                plan = self._plan(*sessions)
                return sessions, plan
            except ConnectError as exc:
                if sessions is not None:
                    close_pair(sessions)
                self._check_cancel()  # cut because the copy is stopping: no retry
                # A setting that is wrong fails at once; a timeout is worth another try.
                if not exc.transient:
                    raise
                failures += 1
                self._back_off(exc, failures)
            except BaseException:
                if sessions is not None:
                    close_pair(sessions)
                raise

    def _next_folder(
        self, pending: deque[tuple[Folder, FolderCounts]]
    ) -> tuple[Folder, FolderCounts] | None:
        with self._lock:
            if not pending:
                return None
            taken = pending.popleft()
        self._mark_start()
        return taken

    def _give_back(
        self,
        pending: deque[tuple[Folder, FolderCounts]],
        current: tuple[Folder, FolderCounts],
        exc: Exception,
    ) -> None:
        self._settle_start()
        with self._lock:
            pending.appendleft(current)
            self._changed.notify_all()
        self._issue(
            CopyIssue(
                f"one more connection could not be opened ({exc}); going on with fewer",
                severity=Severity.WARNING,
            )
        )

    def _work(
        self,
        pending: deque[tuple[Folder, FolderCounts]],
        sessions: tuple[ImapSession, ImapSession] | None,
        extra: bool = False,
    ) -> None:
        """One connection pair: take folders until none is left; reconnect when cut.

        Every pair but the first (which planned the job) is an extra: if it cannot log in
        at all, the job goes on without it.
        """
        current: tuple[Folder, FolderCounts] | None = None
        failures = 0
        processed_at_last_failure = -1
        helped = False
        try:
            while True:
                try:
                    self._check_cancel()
                    if current is None:
                        current = self._next_folder(pending)
                        if current is None:
                            if not extra and self._opening:
                                # An extra pair still logging in may give its folder back.
                                with self._lock:
                                    if self._opening:
                                        self._changed.wait(self._recheck_seconds)
                                continue
                            if not helped and self._help_wanted():
                                helped = True
                                self._help(sessions[0] if sessions else None)
                                continue  # a folder may have been given back meanwhile
                            self._close_preopened()  # every folder is taken: spares go
                            return
                    if sessions is None:
                        try:
                            with self._lock:
                                self._opening += extra
                            sessions = self._take_preopened() or self._open_both()
                        except (AuthError, ConnectError) as exc:
                            if not extra or (
                                isinstance(exc, ConnectError)
                                and exc.transient
                                and not isinstance(exc, ServerBusyError)
                            ):
                                raise
                            # A provider's connection limit answers an extra pair with BYE
                            # or NO: give the folder back and go on with fewer pairs.
                            self._give_back(pending, current, exc)
                            return
                        finally:
                            with self._lock:
                                self._opening -= extra
                                self._changed.notify_all()
                    try:
                        self._copy_folder(*sessions, *current)
                    finally:
                        self._settle_start()
                    current = None
                except ConnectionInterrupted:
                    # Cut on purpose: by the cancel, or because another pair failed the
                    # job (whose error, not this one, is the job's).
                    self._check_cancel()
                    raise
                except ConnectError as exc:
                    # The connection worked and broke (or the server is restarting):
                    # reconnect with back-off, and resume the folder from the ledger.
                    # Unless the copy is stopping: then it may be our own cut, reported
                    # by a connection the interrupter could not tell (a test's wrapper).
                    self._check_cancel()
                    if current is not None:
                        self._mark_start()  # helpers wait for the retried folder's feed
                    if sessions is not None:
                        close_pair(sessions)
                        sessions = None
                    if isinstance(exc, ServerBusyError):
                        # The server said why it closed: not the message's fault.
                        self._local.in_flight = None
                    else:
                        self._note_in_flight_failure()
                        self._batch_size.shrink()  # smaller batches get through a poor link
                    processed = self.result.total("processed")
                    failures = 1 if processed > processed_at_last_failure else failures + 1
                    processed_at_last_failure = processed
                    self._back_off(exc, failures)
        except BaseException:
            self._stop_all()  # the job cannot finish: stop the other pairs too
            raise
        finally:
            if sessions is not None:
                close_pair(sessions)

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise CopyCancelled(STOPPED)
        if self._abort.is_set():
            raise _Aborted()

    def _issue(self, issue: CopyIssue) -> None:
        # A folder restarted after a reconnect meets the same refusals again: keep one.
        with self._lock:
            if issue in self.result.issues:
                return
            self.result.issues.append(issue)
        self.listener.issue(issue)

    def _note_in_flight_failure(self) -> None:
        """Count a lost connection against the message being copied at that moment.

        Some servers drop the connection on a message they cannot take (too big, say):
        retrying it forever would stop the whole job, so after ``DROPS_BEFORE_SKIPPING``
        drops on the same message it is recorded as failed and skipped.
        """
        in_flight: tuple[str, int | None] | None = getattr(self._local, "in_flight", None)
        if in_flight is None:
            return
        folder, uid = in_flight
        self._local.in_flight = None
        if uid is None:  # a whole MULTIAPPEND: go on one by one to find the culprit
            self._careful_folders.add(folder)
            return
        self._drops[(folder, uid)] = self._drops.get((folder, uid), 0) + 1

    # --- one folder ----------------------------------------------------------------

    def _labelled_identities(self, src: ImapSession) -> Counter[str]:
        """The identities of every message in Gmail's label folders (computed once: All Mail
        is one folder)."""
        if self._labelled is None:
            found: Counter[str] = Counter()
            for folder in self._label_folders:
                if folder.selectable:
                    _, uids = src.examine_uids(folder.source_name)
                    scanned = self._scan(src, uids, with_identity=True)
                    found.update(m.fingerprint for m in scanned if m.fingerprint)
            self._labelled = found
        return self._labelled

    def _without_labelled(
        self, messages: list[SourceMessage], labelled: Counter[str], counts: FolderCounts
    ) -> list[SourceMessage]:
        """All Mail's messages that no label folder holds (each identity counted once per
        copy in the labels, so true duplicates stay)."""
        remaining = labelled.copy()
        kept = []
        for message in messages:
            if message.fingerprint and remaining[message.fingerprint] > 0:
                remaining[message.fingerprint] -= 1
            else:
                kept.append(message)
        counts.total -= len(messages) - len(kept)  # copied with their labels instead
        return kept

    def _planned_modseq(self, folder: Folder, source_state: FolderState) -> int | None:
        """The source folder's HIGHESTMODSEQ from planning's STATUS, for the snapshot.

        Asked before the folder was opened, so older than what the pass saw: a change in
        between makes the next run look again, never skip a change."""
        status = self._source_status.get(folder.source_name)
        if status is None or status.uidvalidity != source_state.uidvalidity:
            return None
        return status.highestmodseq

    def _may_have_lost(self, pair: FolderPair, state: FolderState, recorded: int) -> int:
        """At most how many messages may have been deleted from the destination folder
        since the ledger recorded ``recorded`` of its messages (0: none, trust the ledger)."""
        snapshot = self.ledger.snapshot(pair)
        if snapshot is not None:
            return snapshot.destination_lost(state.uidvalidity, state.exists, state.uidnext) or 0
        # No complete pass yet: only a folder holding fewer than the ledger knows tells.
        return max(recorded - state.exists, 0)

    def _still_there(
        self,
        recorded: list[LedgerEntry],
        available: Counter[str],
        bound: int,
        counts: FolderCounts,
    ) -> list[LedgerEntry]:
        """The ledger's entries whose message the destination folder still holds (each
        identity counted once per copy there); ``available`` loses those found.

        Those missing were deleted there after being copied: they are copied again, so
        nothing is lost.  But if more are missing than can have been deleted (``bound``),
        the destination does not keep messages byte for byte (some servers rewrite them)
        and identities cannot tell: the ledger is trusted rather than risk doubling all.
        """
        kept: list[LedgerEntry] = []
        gone: list[LedgerEntry] = []
        for entry in recorded:
            if not entry.fingerprint:  # no identity recorded: nothing to check with
                kept.append(entry)
            elif available[entry.fingerprint] > 0:
                available[entry.fingerprint] -= 1
                kept.append(entry)
            else:
                gone.append(entry)
        if not gone:
            return recorded
        if len(gone) > bound:
            self._issue(
                CopyIssue(
                    f"{len(gone)} messages copied earlier are not recognised in the "
                    f"destination folder, more than can have been deleted there ({bound}): "
                    "not copied again",
                    folder=counts.display_name,
                    severity=Severity.WARNING,
                )
            )
            return recorded
        self._issue(
            CopyIssue(
                f"{len(gone)} messages copied earlier were deleted from the destination "
                "folder: copied again",
                folder=counts.display_name,
                severity=Severity.WARNING,
            )
        )
        return kept

    def _copy_folder(
        self, src: ImapSession, dst: ImapSession, folder: Folder, counts: FolderCounts
    ) -> None:
        counts.copied = counts.present = counts.failed = counts.bytes_copied = 0
        counts.error = None
        labelled = None
        if folder.source_name in self._unlabelled_only:
            try:
                labelled = self._labelled_identities(src)
            except ServerError as exc:
                self._fail_folder(counts, f"cannot read the label folders to compare: {exc}")
                return
        destination_name = folder.destination_name
        exists_on_destination = destination_name in self._destination_folders
        pair = self._pair(folder)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="select") as helper:
            # The destination folder opens while the source is read: one wait, not two.
            opening = None
            if exists_on_destination:
                # SELECT, not EXAMINE: only a writable open reports PERMANENTFLAGS.
                open_destination = dst.examine if self.options.dry_run else dst.select
                opening = helper.submit(open_destination, destination_name)
            try:
                source_state, uids = src.examine_uids(folder.source_name)
            except ServerError as exc:
                if opening is not None:
                    opening.exception()  # let it finish before the session is used again
                self._fail_folder(counts, f"cannot open the source folder: {exc}")
                return
            destination_state: FolderState | None = None
            if opening is not None:
                try:
                    destination_state = opening.result()
                except ServerError as exc:
                    self._fail_folder(counts, f"cannot open the destination folder: {exc}")
                    return

        counts.total = len(uids)
        scope = LedgerScope(
            source_account=self.source.key,
            source_folder=folder.source_name,
            source_uidvalidity=source_state.uidvalidity,
            destination_account=self.destination.key,
            destination_folder=destination_name,
            destination_uidvalidity=destination_state.uidvalidity if destination_state else 0,
        )
        known = self.ledger.entries(scope) if destination_state else {}
        skipped = [known[u] for u in uids if u in known]
        available: Counter[str] | None = None  # the destination's identities, once read
        if destination_state is not None and skipped and not self.options.dry_run:
            bound = self._may_have_lost(pair, destination_state, len(skipped))
            if bound:
                try:
                    available = self._destination_fingerprints(dst)
                except ServerError as exc:
                    self._fail_folder(counts, f"cannot read the destination folder: {exc}")
                    return
                skipped = self._still_there(skipped, available, bound, counts)
                known = {e.uid: e for e in skipped}
        for entry in skipped:
            if entry.copied_by_this_job:
                counts.copied += 1
                counts.bytes_copied += entry.size
            else:
                counts.present += 1
        self.listener.folder_started(counts)

        todo = [u for u in uids if u not in known]
        # Identities are needed before copying only to compare with mail already in the
        # destination folder; otherwise each is computed from the body as it passes.
        compare = bool(destination_state and destination_state.exists)
        try:
            messages = self._scan(src, todo, with_identity=compare or labelled is not None)
            if available is None:
                available = Counter()
                if messages and compare:
                    available = self._destination_fingerprints(dst)
                    available.subtract(Counter(e.fingerprint for e in skipped))
        except ServerError as exc:
            self._fail_folder(counts, f"cannot read the folder's messages: {exc}")
            return
        counts.total -= len(todo) - len(messages)  # expunged meanwhile
        if labelled is not None:
            messages = self._without_labelled(messages, labelled, counts)
        to_copy: list[SourceMessage] = []
        found: list[LedgerEntry] = []
        for message in messages:
            if message.fingerprint is not None and available[message.fingerprint] > 0:
                available[message.fingerprint] -= 1
                found.append(LedgerEntry(message.uid, message.fingerprint, message.size, False))
                counts.present += 1
                self.listener.message_done(
                    counts, message.uid, MessageOutcome.PRESENT, message.size
                )
            else:
                to_copy.append(message)
        if found and not self.options.dry_run:
            self.ledger.record(scope, found)

        to_copy = self._set_aside_oversized(src, to_copy, counts, self._size_limit)
        if self.options.dry_run:
            counts.copied += len(to_copy)
            counts.bytes_copied += sum(m.size for m in to_copy)
        else:
            assert destination_state is not None
            copied_before = counts.copied
            self._transfer(
                src,
                dst,
                destination_name,
                destination_state,
                source_state.uidvalidity,
                to_copy,
                counts,
                scope,
            )
            appended = counts.copied - copied_before
            if counts.failed == 0 and source_state.uidnext is not None:
                # What this pass left there, counted rather than asked (a round trip less):
                # if someone deleted mail meanwhile, the next run sees fewer and looks again.
                self.ledger.save_snapshot(
                    pair,
                    FolderSnapshot(
                        source_uidvalidity=source_state.uidvalidity,
                        source_uidnext=source_state.uidnext,
                        source_messages=source_state.exists,
                        destination_uidvalidity=destination_state.uidvalidity,
                        destination_messages=destination_state.exists + appended,
                        copied=counts.copied,
                        present=counts.present,
                        bytes_copied=counts.bytes_copied,
                        source_highestmodseq=self._planned_modseq(folder, source_state),
                        # Each APPEND takes one UID: what UIDNEXT is if nobody else added
                        # mail.  If someone did, count and UIDNEXT grew alike (see
                        # FolderSnapshot.destination_lost); if an APPEND took a UID and
                        # kept no message, the next run looks once more.
                        destination_uidnext=(
                            destination_state.uidnext + appended
                            if destination_state.uidnext is not None
                            else None
                        ),
                    ),
                )
        counts.done = True
        self.listener.folder_done(counts)

    def _append_report(self) -> None:
        self.result.finished_at = datetime.now(self.result.started_at.tzinfo)
        message = build_report(self.source, self.destination, self.result)
        try:
            with self._connected(
                self.destination,
                timeouts=self.options.timeouts,
                compression=self._compression["destination"],
            ) as dst:
                dst.append(INBOX, message, (), None)
        except (ServerError, ConnectError, AuthError) as exc:
            self._issue(
                CopyIssue(f"the report could not be delivered: {exc}", severity=Severity.WARNING)
            )
