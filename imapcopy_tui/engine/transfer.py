"""Moving one folder's messages: the scan, the identity lookups, and the batched transfer.

These are the :class:`~imapcopy_tui.engine.copier.Copier`'s per-folder steps, kept apart
from the job's orchestration (planning, connection pairs, retries).  The mixin only uses
the attributes declared below, which the Copier sets up.
"""

from __future__ import annotations

import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.budget import ByteBudget
from imapcopy_tui.engine.bulk import OutgoingMessage
from imapcopy_tui.engine.feed import FolderFeed
from imapcopy_tui.engine.identity import fingerprint, header_section
from imapcopy_tui.engine.ledger import Ledger, LedgerEntry, LedgerScope
from imapcopy_tui.engine.options import CopyOptions
from imapcopy_tui.engine.pacing import BatchSizer, Pacer, RateLimit
from imapcopy_tui.engine.progress import (
    CopyIssue,
    CopyListener,
    FolderCounts,
    MessageOutcome,
    Severity,
    human_size,
)
from imapcopy_tui.engine.session import FolderState, ImapSession
from imapcopy_tui.engine.wire import is_sendable_flag
from imapcopy_tui.errors import (
    DestinationFullError,
    QuotaExceededError,
    ServerBusyError,
    ServerError,
)

_IDENTITY_ITEMS = ("RFC822.SIZE", "BODY.PEEK[HEADER]")
_META_ITEMS = ("FLAGS", "INTERNALDATE", "RFC822.SIZE")
DROPS_BEFORE_SKIPPING = 3
# Over-quota refusals in a row (no message landing between them) that stop the job: one
# message too large for the room left is recorded and the copy goes on; a full mailbox
# would otherwise fail every message left, one line each.
QUOTA_REFUSALS_BEFORE_STOPPING = 10
FIRST_BATCH_SHARE = 4  # the first batch of a large folder is this much smaller
# Internal dates some destinations do not keep (see _warn_unkept_dates).
FUTURE_DATE_MARGIN = timedelta(hours=2)  # Dovecot's INTERNALDATE_MAX_FUTURE_SECS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DATE_AHEAD = (
    "an internal date more than two hours ahead of this computer's clock; the destination "
    "may store the time of the copy instead (Dovecot does)"
)
DATE_BEFORE_1970 = (
    "an internal date before 1970; the destination may not keep it (Dovecot cannot: it "
    "stores a date decades ahead instead)"
)
NUL_REFUSED = (
    "it contains NUL bytes, which IMAP carries only in a binary literal (RFC 3516), and "
    "the destination does not offer BINARY with LITERAL+ and MULTIAPPEND; it was not sent"
)


@dataclass
class FetchedBatch:
    """What the prefetch thread brings back for one batch."""

    bodies: dict[int, bytes] = field(default_factory=dict)
    failed: list[tuple[SourceMessage, str]] = field(default_factory=list)
    gone: int = 0  # expunged on the source since the scan


@dataclass(slots=True)
class SourceMessage:
    uid: int
    size: int
    flags: tuple[str, ...]
    internal_date: datetime | None
    fingerprint: str | None  # None until the body is read, when nothing needed it sooner


Feed = FolderFeed[SourceMessage, FetchedBatch]
T = TypeVar("T")
P = ParamSpec("P")


def describe_message(header: bytes | None) -> str:
    """": dated …, from …, subject …" from a message's header, for a person to find it.

    Any header, however broken, gives some text (or none), never an error: this only
    helps to describe a message that is being set aside.
    """
    if not header:
        return ""
    # Imported here: the email package costs start-up time, and this is seldom needed.
    from email.parser import BytesHeaderParser
    from email.policy import default as email_policy

    parts = []
    for name, label in (("Date", "dated"), ("From", "from"), ("Subject", "subject")):
        try:
            value = str(BytesHeaderParser(policy=email_policy).parsebytes(header).get(name) or "")
        except Exception:  # noqa: BLE001 - the email package raises many kinds on odd input
            value = ""
        # One line, printable: it goes to terminals, the job table and the report.
        value = "".join(c if c.isprintable() else " " for c in " ".join(value.split()))
        if value.strip():
            parts.append(f"{label} {value.strip()[:120]}")
    return ": " + ", ".join(parts) if parts else ""


def _forget_locals(error: BaseException) -> None:
    """Clear the local variables of the finished frames ``error`` (and every error it
    chains to) went through; its traceback still says where it came from."""
    seen: set[int] = set()
    chain: list[BaseException | None] = [error]
    while chain:
        exc = chain.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)  # frames still running are left alone
        chain += (exc.__cause__, exc.__context__)


def _drop_bodies(fetched: FetchedBatch) -> None:
    fetched.bodies.clear()


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class TransferMixin:
    """The per-folder steps of the Copier (see the module docstring)."""

    options: CopyOptions
    _connections: int  # pairs for this job
    source: Account
    ledger: Ledger
    listener: CopyListener
    _budget: ByteBudget
    _drops: dict[tuple[str, int], int]
    _quota_refusals: int  # in a row, all pairs together (see QUOTA_REFUSALS_BEFORE_STOPPING)
    _careful_folders: set[str]
    _local: threading.local
    _source_pacer: Pacer
    _destination_pacer: Pacer
    _batch_size: BatchSizer
    _rate_limit: RateLimit | None

    def _check_cancel(self) -> None:
        raise NotImplementedError

    def _offer_help(self, feed: Feed) -> None:
        """Let pairs with nothing left to copy fetch this folder's batches too."""

    def _withdraw_help(self, feed: Feed) -> None:
        """The folder is done (or failed): no more helpers for it."""

    def _sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def _patiently(
        self, pacer: Pacer, command: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``command``; while the server answers that it is busy, wait and send it again.

        After ``options.limit_retries`` answers of ``[LIMIT]`` the command is taken as
        refused (one message over some limit must not stop the job); after
        ``options.busy_retries`` busy answers of other kinds the error goes up, and the
        pair reconnects with back-off.
        """
        tries = 0  # busy answers to this command
        while True:
            if pause := pacer.pause:
                self._sleep(pause)
            try:
                result = command(*args, **kwargs)
            except ServerBusyError as exc:
                tries += 1
                if exc.code == "LIMIT" and tries > self.options.limit_retries:
                    raise ServerError(exc.refusal) from exc
                if exc.connection_closed or tries > self.options.busy_retries:
                    raise  # the pair reconnects, after the wait the server asked for
                delay = pacer.busy(exc, tries)
                self.listener.waiting(delay, str(exc))
                self._sleep(delay)
                continue
            pacer.succeeded()
            return result

    def _issue(self, issue: CopyIssue) -> None:
        raise NotImplementedError

    def _scan(
        self, src: ImapSession, uids: Sequence[int], *, with_identity: bool
    ) -> list[SourceMessage]:
        """Flags, date and size of source messages in UID order, and their identity if asked."""
        messages: list[SourceMessage] = []
        items = _META_ITEMS + (("BODY.PEEK[HEADER]",) if with_identity else ())
        for chunk in _chunks(uids, self.options.scan_batch_count):
            self._check_cancel()
            fetched = self._patiently(self._source_pacer, src.fetch, chunk, items)
            absent = [uid for uid in chunk if uid not in fetched]
            if absent and src.existing_uids(absent):
                raise ServerError(
                    f"{self.source.describe()}: the server did not describe every message"
                )
            for uid in chunk:
                data = fetched.get(uid)
                if data is None:
                    continue  # expunged since the UID list was read
                if None in (data.size, data.flags, data.internal_date) or (
                    with_identity and data.header is None
                ):
                    # Never copy with a guessed date or no flags, never match on nothing.
                    raise ServerError(
                        f"{self.source.describe()}: the server's description of message "
                        f"UID {uid} could not be read"
                    )
                header = data.header
                size = data.size or 0
                messages.append(
                    SourceMessage(
                        uid=uid,
                        size=size,
                        flags=data.flags or (),
                        internal_date=data.internal_date,
                        fingerprint=fingerprint(header or b"", size) if with_identity else None,
                    )
                )
        return messages

    def _destination_fingerprints(self, dst: ImapSession) -> Counter[str]:
        """How many messages of each identity the selected destination folder holds."""
        found: Counter[str] = Counter()
        for chunk in _chunks(dst.all_uids(), self.options.scan_batch_count):
            self._check_cancel()
            fetched = self._patiently(self._destination_pacer, dst.fetch, chunk, _IDENTITY_ITEMS)
            for data in fetched.values():
                found[fingerprint(data.header or b"", data.size or 0)] += 1
        return found

    def _batches(self, messages: Sequence[SourceMessage]) -> Iterator[list[SourceMessage]]:
        """The messages in UID order, cut into batches.

        In a folder of more than one batch, the first batches are smaller and double up to
        the full size: appending starts as soon as some messages are in, instead of after
        a whole batch was fetched.  A folder that fits in one batch goes in one: each
        batch is a round trip more on a slow link.
        """
        batch: list[SourceMessage] = []
        batch_bytes = 0
        full_count, full_bytes = self._batch_size.count, self._batch_size.bytes
        max_count, max_bytes = full_count, full_bytes
        if len(messages) > full_count or sum(m.size for m in messages) > full_bytes:
            max_count = max(1, full_count // FIRST_BATCH_SHARE)
            max_bytes = max(1, full_bytes // FIRST_BATCH_SHARE)
        for message in messages:
            if batch and (len(batch) >= max_count or batch_bytes + message.size > max_bytes):
                yield batch
                batch, batch_bytes = [], 0
                max_count = min(full_count, max_count * 2)
                max_bytes = min(full_bytes, max_bytes * 2)
            batch.append(message)
            batch_bytes += message.size
        if batch:
            yield batch

    def _set_aside_oversized(
        self,
        src: ImapSession,
        messages: Sequence[SourceMessage],
        counts: FolderCounts,
        limit: int | None,
    ) -> list[SourceMessage]:
        """The messages the destination can take; each larger one is recorded as failed,
        with what lets the user find it (date, sender, subject), and never sent."""
        if limit is None:
            return list(messages)
        oversized = [m for m in messages if m.size > limit]
        if not oversized:
            return list(messages)
        try:
            headers = self._patiently(
                self._source_pacer, src.fetch, [m.uid for m in oversized], ("BODY.PEEK[HEADER]",)
            )
        except ServerError:
            headers = {}  # the reason is still worth giving without them
        for message in oversized:
            found = headers.get(message.uid)
            self._fail_message(
                counts,
                message,
                f"too large for the destination ({human_size(message.size)}; it takes at "
                f"most {human_size(limit)}), not sent"
                + describe_message(found.header if found else None),
            )
        return [m for m in messages if m.size <= limit]

    def _refused(self, counts: FolderCounts, message: SourceMessage, exc: ServerError) -> None:
        """The destination would not take ``message``: recorded as failed, unless it is
        the over-quota refusal too many in a row, which stops the job (the message is then
        neither failed nor copied: the same sync sends it again once there is room)."""
        if isinstance(exc, QuotaExceededError):
            self._quota_refusals += 1  # pairs racing here only delay the stop by one
            if self._quota_refusals >= QUOTA_REFUSALS_BEFORE_STOPPING:
                raise DestinationFullError(
                    f"{exc}; {QUOTA_REFUSALS_BEFORE_STOPPING} messages in a row were refused "
                    "as over quota: free some space on the destination account or raise its "
                    "quota, then run the same sync again (what was copied stays)"
                ) from exc
        self._fail_message(counts, message, str(exc))

    def _fail_message(self, counts: FolderCounts, message: SourceMessage, reason: str) -> None:
        counts.failed += 1
        self._issue(CopyIssue(reason, folder=counts.display_name, uid=message.uid))
        self.listener.message_done(counts, message.uid, MessageOutcome.FAILED, message.size)

    def _fetch_bodies(self, src: ImapSession, batch: Sequence[SourceMessage]) -> FetchedBatch:
        """Bodies of a batch; a batch the server refuses is fetched message by message.

        Runs in the prefetch thread: it touches only the source session and returns what
        went wrong instead of recording it, so that counters stay in one thread.
        """
        result = FetchedBatch()
        refused: set[int] = set()
        try:
            fetched = self._patiently(
                self._source_pacer, src.fetch, [m.uid for m in batch], ("BODY.PEEK[]",)
            )
        except ServerError as batch_error:
            fetched = {}
            for message in batch:
                try:
                    if len(batch) == 1:
                        raise batch_error
                    fetched.update(
                        self._patiently(
                            self._source_pacer, src.fetch, [message.uid], ("BODY.PEEK[]",)
                        )
                    )
                except ServerError as exc:
                    result.failed.append((message, f"the source refused to send it: {exc}"))
                    refused.add(message.uid)
        missing = []
        for message in batch:
            if message.uid in refused:
                continue
            item = fetched.get(message.uid)
            body = item.body if item is not None else None
            if body is None:
                missing.append(message)
            else:
                result.bodies[message.uid] = body
        if missing:
            # Gone (expunged since the scan) or withheld (some servers answer NIL for a
            # damaged message): only the second is an error.
            try:
                still_there = set(src.existing_uids([m.uid for m in missing]))
            except ServerError:
                still_there = {m.uid for m in missing}  # cannot tell: report, never skip
            for message in missing:
                if message.uid in still_there:
                    result.failed.append((message, "the source server did not return this message"))
                else:
                    result.gone += 1
        return result

    def _landed(
        self, counts: FolderCounts, scope: LedgerScope, sent: Sequence[SourceMessage]
    ) -> None:
        self.ledger.record(
            scope, [LedgerEntry(m.uid, m.fingerprint or "", m.size, True) for m in sent]
        )
        self._quota_refusals = 0
        for message in sent:
            counts.copied += 1
            counts.bytes_copied += message.size
            self.listener.message_done(counts, message.uid, MessageOutcome.COPIED, message.size)

    def _append_batch(
        self,
        dst: ImapSession,
        destination_name: str,
        outgoing: Sequence[tuple[SourceMessage, OutgoingMessage]],
        counts: FolderCounts,
        scope: LedgerScope,
    ) -> None:
        """One MULTIAPPEND for the batch when the server offers it, else one APPEND each
        (pipelined when the server offers LITERAL+, see :meth:`_append_pipelined`).

        MULTIAPPEND is all or nothing: when the server refuses the batch, the messages are
        sent one by one to find (and record) the one it will not take.  After a connection
        lost during a MULTIAPPEND or a pipelined batch, the folder goes on one message at a
        time, so that a message that breaks the connection can be singled out.
        """
        if not outgoing:
            return
        if self._rate_limit is not None:
            self._sleep(self._rate_limit.delay_for(sum(len(o.raw) for _, o in outgoing)))
        careful = scope.source_folder in self._careful_folders
        if dst.can_append_many and not careful:
            self._local.in_flight = (scope.source_folder, None)
            try:
                self._patiently(
                    self._destination_pacer,
                    dst.append_many,
                    destination_name,
                    [o for _, o in outgoing],
                )
            except ServerError as exc:
                self._local.in_flight = None
                if len(outgoing) == 1:
                    self._refused(counts, outgoing[0][0], exc)
                    return
                # All or nothing: find the refused one below, message by message.
            else:
                self._local.in_flight = None
                self._landed(counts, scope, [m for m, _ in outgoing])
                return
            self._local.in_flight = None
        elif dst.can_pipeline_appends and not careful and len(outgoing) > 1:
            outgoing = self._append_pipelined(dst, destination_name, outgoing, counts, scope)
        landed: list[SourceMessage] = []
        try:
            for message, out in outgoing:
                self._check_cancel()
                self._local.in_flight = (scope.source_folder, message.uid)
                try:
                    self._patiently(
                        self._destination_pacer, self._append_one, dst, destination_name, out
                    )
                except ServerError as exc:
                    self._local.in_flight = None
                    self._refused(counts, message, exc)
                    continue
                self._local.in_flight = None
                landed.append(message)
                self._quota_refusals = 0  # not "in a row" any more
        finally:
            if landed:
                self._landed(counts, scope, landed)

    def _append_pipelined(
        self,
        dst: ImapSession,
        destination_name: str,
        outgoing: Sequence[tuple[SourceMessage, OutgoingMessage]],
        counts: FolderCounts,
        scope: LedgerScope,
    ) -> list[tuple[SourceMessage, OutgoingMessage]]:
        """One APPEND per message, the batch's all sent at once (LITERAL+ without
        MULTIAPPEND: Exchange, Microsoft 365); what was stored is recorded, what was
        refused too.  Returns the messages the server asked to send again later, after
        the wait it asked for: they go one by one, so they arrive after the rest of the
        batch (the only case where the destination's order differs from the source's)."""
        self._local.in_flight = (scope.source_folder, None)
        outcomes = self._patiently(
            self._destination_pacer, dst.append_each, destination_name, [o for _, o in outgoing]
        )
        self._local.in_flight = None
        # Recorded before any refusal is handled: a full mailbox stops the job there.
        stored = [m for (m, _), outcome in zip(outgoing, outcomes, strict=True) if outcome is None]
        if stored:
            self._landed(counts, scope, stored)
        again: list[tuple[SourceMessage, OutgoingMessage]] = []
        for (message, out), outcome in zip(outgoing, outcomes, strict=True):
            if isinstance(outcome, ServerBusyError):
                if not again:
                    delay = self._destination_pacer.busy(outcome, 1)
                    self.listener.waiting(delay, str(outcome))
                    self._sleep(delay)
                again.append((message, out))
            elif outcome is not None:
                self._refused(counts, message, outcome)
        return again

    @staticmethod
    def _append_one(dst: ImapSession, destination_name: str, out: OutgoingMessage) -> None:
        if dst.can_append_many:  # with LITERAL+, even one message saves a wait
            dst.append_many(destination_name, [out])
        else:
            dst.append(destination_name, out.raw, out.flags, out.internal_date)

    def _send_batch(
        self,
        dst: ImapSession,
        destination_name: str,
        destination_state: FolderState,
        batch: Sequence[SourceMessage],
        fetched: FetchedBatch,
        counts: FolderCounts,
        scope: LedgerScope,
        dropped_keywords: set[str],
    ) -> None:
        """Record what the fetch could not bring, then append the rest in UID order."""
        self._check_cancel()
        for message, reason in fetched.failed:
            self._fail_message(counts, message, reason)
        counts.total -= fetched.gone
        outgoing: list[tuple[SourceMessage, OutgoingMessage]] = []
        nul_refused = not dst.can_append_nul
        # Most messages share a few sets of flags: each set is sorted out once.
        sendable: dict[tuple[str, ...], tuple[str, ...]] = {}
        for message in batch:
            body = fetched.bodies.get(message.uid)
            if body is None:
                continue  # failed or gone: already counted
            if (
                self._drops
                and self._drops.get((scope.source_folder, message.uid), 0) >= DROPS_BEFORE_SKIPPING
            ):
                self._fail_message(
                    counts,
                    message,
                    f"the connection broke {DROPS_BEFORE_SKIPPING} times while this "
                    "message was being copied; it was skipped",
                )
                continue
            if nul_refused and b"\x00" in body:  # the scan costs: only when it matters
                self._fail_message(counts, message, NUL_REFUSED)
                continue
            if message.fingerprint is None:
                message.fingerprint = fingerprint(header_section(body), message.size)
            flags = sendable.get(message.flags)
            if flags is None:
                flags = sendable[message.flags] = tuple(
                    f
                    for f in message.flags
                    if is_sendable_flag(f)
                    and (f.startswith("\\") or destination_state.accepts_keyword(f))
                )
                dropped_keywords.update(set(message.flags) - set(flags))
            outgoing.append((message, OutgoingMessage(body, flags, message.internal_date)))
        self._append_batch(dst, destination_name, outgoing, counts, scope)

    def fetch_for(self, feed: Feed, src: ImapSession, *, last: bool = False) -> None:
        """Fetch the feed's batches, lowest first, until none is left to claim.

        Runs in the folder's prefetch thread (``last``: it stays until every batch is in)
        and in helping pairs (see :mod:`feed`): it touches only ``src``, whose selected
        folder is the feed's.  A batch this connection could not fetch is given back.
        """
        while (claimed := feed.claim(self._check_cancel, last=last)) is not None:
            index, batch = claimed
            try:
                fetched = self._fetch_bodies(src, batch)
            except BaseException:
                feed.give_back(index)
                raise
            feed.deliver(index, fetched)

    def _own_fetcher(self, feed: Feed, src: ImapSession) -> None:
        try:
            self.fetch_for(feed, src, last=True)
        except BaseException as exc:
            # Its frames hold what the failed fetch read, and it lives on in the appending
            # thread, past the release of the batch's bytes, until handled after a back-off.
            _forget_locals(exc)
            feed.fail(exc)  # raised in the appending thread, which handles it as before

    def _transfer(
        self,
        src: ImapSession,
        dst: ImapSession,
        destination_name: str,
        destination_state: FolderState,
        source_uidvalidity: int,
        messages: Sequence[SourceMessage],
        counts: FolderCounts,
        scope: LedgerScope,
    ) -> None:
        """Append the messages batch after batch while the next ones are being fetched.

        The folder's own prefetch thread fetches ahead on this pair's source connection;
        pairs with nothing else to do may fetch batches too (``_offer_help``).  The
        destination still receives every message in source UID order.
        """
        batches = list(self._batches(messages))
        dropped_keywords: set[str] = set()
        feed: Feed = FolderFeed(
            scope.source_folder,
            source_uidvalidity,
            batches,
            self._budget,
            ahead=max(1, self._connections),
            discard=_drop_bodies,
        )
        self._offer_help(feed)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as prefetch:
            prefetch.submit(self._own_fetcher, feed, src)
            try:
                for index, batch in enumerate(batches):
                    fetched, taken = feed.take(index, self._check_cancel)
                    try:
                        self._send_batch(
                            dst,
                            destination_name,
                            destination_state,
                            batch,
                            fetched,
                            counts,
                            scope,
                            dropped_keywords,
                        )
                        self._batch_size.got_through()
                    except BaseException as exc:
                        # Until it is handled (after the back-off, for a lost connection)
                        # the error keeps the frames of the failed append, whose locals
                        # hold the batch's bodies (and the joined MULTIAPPEND).
                        _forget_locals(exc)
                        raise
                    finally:
                        # Drop the bodies before their bytes go back to the budget: another
                        # pair may take them at once, while ``fetched`` lives on here until
                        # the next batch arrives (one batch per pair beyond the budget).
                        fetched.bodies.clear()
                        self._budget.release(taken)
            finally:
                self._withdraw_help(feed)
                feed.close()  # gives back what was fetched ahead and not appended
        if dropped_keywords:
            self._issue(
                CopyIssue(
                    "the destination cannot store the keywords "
                    + ", ".join(sorted(dropped_keywords))
                    + "; the messages were copied without them",
                    folder=counts.display_name,
                    severity=Severity.WARNING,
                )
            )
        self._warn_unkept_dates(messages, counts)

    def _warn_unkept_dates(self, messages: Sequence[SourceMessage], counts: FolderCounts) -> None:
        """Say which messages have an internal date the destination may not keep.

        Dovecot, silently, stores the time of the APPEND instead of a date more than two
        hours ahead, and keeps dates as unsigned 32-bit seconds, so one before 1970 wraps
        to a date decades ahead; other servers may have limits of their own.  The bytes,
        flags and identity are unaffected: such a message is copied, with this warning.
        """
        ahead = datetime.now(UTC) + FUTURE_DATE_MARGIN
        dates = [(m, m.internal_date) for m in messages if m.internal_date is not None]
        for why, found in (
            (DATE_AHEAD, [m for m, date in dates if date > ahead]),
            (DATE_BEFORE_1970, [m for m, date in dates if date < EPOCH]),
        ):
            if not found:
                continue
            uids = ", ".join(str(m.uid) for m in found[:10]) + (", ..." if len(found) > 10 else "")
            self._issue(
                CopyIssue(
                    f"{len(found)} message(s) (UID {uids}) have {why}",
                    folder=counts.display_name,
                    uid=found[0].uid if len(found) == 1 else None,
                    severity=Severity.WARNING,
                )
            )

    # --- the report ----------------------------------------------------------------
