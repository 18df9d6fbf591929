"""Writes the engine's progress into the job store while the copy runs.

Writes are batched (at most a few a second) so the database never slows the copy, and
flushed at each folder's end and at the job's end so nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from imapcopy_tui.engine.folders import Folder
from imapcopy_tui.engine.progress import (
    CopyIssue,
    CopyListener,
    FolderCounts,
    MessageOutcome,
)
from imapcopy_tui.storage.store import JobStore

MIN_WAIT_SHOWN = 1.0


class JobRecorder(CopyListener):
    """A :class:`CopyListener` that keeps the job table's counters current."""

    def __init__(self, store: JobStore, job_id: int, interval: float = 0.5) -> None:
        self.store = store
        self.job_id = job_id
        self.interval = interval
        self._folders: Sequence[FolderCounts] = ()
        self._issues: list[CopyIssue] = []
        self._last_flush = 0.0

    def flush(self) -> None:
        """Write now.  Before the plan is known there is nothing to write."""
        if not self._folders and not self._issues:
            return
        self.store.save_progress(self.job_id, self._folders, self._issues)
        self._issues = []
        self._last_flush = time.monotonic()

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.interval:
            self.flush()

    def plan_ready(self, folders: Sequence[Folder], counts: Sequence[FolderCounts]) -> None:
        self._folders = counts
        self.flush()

    def folder_started(self, counts: FolderCounts) -> None:
        self._maybe_flush()

    def message_done(
        self, counts: FolderCounts, uid: int, outcome: MessageOutcome, size: int
    ) -> None:
        self._maybe_flush()

    def folder_done(self, counts: FolderCounts) -> None:
        self.flush()

    def issue(self, issue: CopyIssue) -> None:
        self._issues.append(issue)
        self._maybe_flush()

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        self.flush()
        self._note_wait(delay, reason)

    def waiting(self, delay: float, reason: str) -> None:
        self._note_wait(delay, reason)

    def _note_wait(self, delay: float, reason: str) -> None:
        # A pause under a second is over before anyone could read it.
        if delay >= MIN_WAIT_SHOWN:
            self.store.note_wait(self.job_id, delay, reason)
