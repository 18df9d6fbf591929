"""The command line's live progress display: one line on stderr, rewritten in place."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

from imapcopy_tui.engine.folders import Folder
from imapcopy_tui.engine.progress import (
    CopyIssue,
    CopyListener,
    FolderCounts,
    MessageOutcome,
)
from imapcopy_tui.status import human_size


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class ProgressLine(CopyListener):
    """Shows folders done, messages copied/present/failed, bytes, rate and ETA.

    On a terminal the line is redrawn at most a few times a second; otherwise (a log file,
    cron) one line is printed per folder, so logs stay readable.
    """

    def __init__(
        self, stream: TextIO | None = None, interval: float = 0.25, *, dry_run: bool = False
    ) -> None:
        # sys.stderr as it is now, not as it was at import (tests and wrappers replace it).
        self.stream = stream or sys.stderr
        # A dry run changes nothing: its lines say what a copy would do, not what was done.
        self.dry_run = dry_run
        self._words = (
            ("to copy", "already there", "to create") if dry_run
            else ("copied", "present", "created")
        )  # fmt: skip
        self.live = self.stream.isatty()
        self.interval = interval
        self.folders: Sequence[FolderCounts] = ()
        self.started = time.monotonic()
        self._last = 0.0
        self._current = ""

    def _totals(self) -> tuple[int, int, int, int, int, int]:
        f = self.folders
        return (
            sum(c.done for c in f),
            sum(c.total for c in f),
            sum(c.copied for c in f),
            sum(c.present for c in f),
            sum(c.failed for c in f),
            sum(c.bytes_copied for c in f),
        )

    def text(self) -> str:
        done, total, copied, present, failed, size = self._totals()
        elapsed = max(time.monotonic() - self.started, 1e-6)
        processed = copied + present + failed
        to_copy, there, _ = self._words
        head = f"[{done}/{len(self.folders)} folders] {self._current[:24]:<24} "
        if self.dry_run:
            return (
                f"{head}{processed}/{total} msgs: {copied} {to_copy}, {present} {there}, "
                f"{human_size(size)} {to_copy}"
            )
        rate = copied / elapsed
        eta = ""
        if rate > 0 and total > processed:
            eta = f" ETA {_eta((total - processed) / rate)}"
        return (
            f"{head}{processed}/{total} msgs: {copied} {to_copy}, {present} {there}, "
            f"{failed} failed, {human_size(size)}, {rate:.0f} msg/s{eta}"
        )

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.live or (not force and now - self._last < self.interval):
            return
        self._last = now
        self.stream.write("\r\x1b[2K" + self.text())
        self.stream.flush()

    def finish(self) -> None:
        if self.live and self.folders:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def plan_ready(self, folders: Sequence[Folder], counts: Sequence[FolderCounts]) -> None:
        self.folders = counts
        self._draw(force=True)

    def folder_started(self, counts: FolderCounts) -> None:
        self._current = counts.display_name
        self._draw()

    def message_done(
        self, counts: FolderCounts, uid: int, outcome: MessageOutcome, size: int
    ) -> None:
        self._draw()

    def folder_done(self, counts: FolderCounts) -> None:
        if self.live:
            self._draw(force=True)
            return
        to_copy, there, create = self._words
        state = f"error: {counts.error}" if counts.error else (
            f"{counts.copied} {to_copy}, {counts.present} {there}"
            + ("" if self.dry_run else f", {counts.failed} failed")
        )
        created = f" ({create})" if counts.created else ""
        self.stream.write(f"{counts.display_name}{created}: {state}\n")

    def issue(self, issue: CopyIssue) -> None:
        prefix = "\r\x1b[2K" if self.live else ""
        self.stream.write(f"{prefix}{issue.severity.value}: {issue}\n")
        self._draw(force=True)

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        prefix = "\r\x1b[2K" if self.live else ""
        self.stream.write(
            f"{prefix}connection lost ({reason}); reconnecting in {delay:.0f} s "
            f"(attempt {attempt})\n"
        )
