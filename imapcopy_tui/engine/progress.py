"""What the engine reports while it copies, and what it returns at the end.

The engine calls a :class:`CopyListener`; the UI adapts it to Textual messages, the command
line to a progress line, the job store to its tables.  Listeners are called from the
copying thread and must not block for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from imapcopy_tui.engine.folders import Folder


def human_size(n: int) -> str:
    """1023 B, 1.0 KiB, 3.3 MiB: sizes as people read them, in the binary units they are
    computed in (named so: a preset's 1 MB limit, 10^6 bytes, shows as 976.6 KiB)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class Severity(StrEnum):
    ERROR = "error"  # something was not copied
    WARNING = "warning"  # copied, but not entirely as on the source (e.g. a keyword)


@dataclass(frozen=True)
class CopyIssue:
    """One thing that went wrong, in the server's words where it gave any."""

    message: str
    folder: str | None = None
    uid: int | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = self.folder or "job"
        if self.uid is not None:
            where += f", message UID {self.uid}"
        return f"{where}: {self.message}"


class MessageOutcome(StrEnum):
    COPIED = "copied"
    PRESENT = "present"  # already on the destination
    FAILED = "failed"


@dataclass
class FolderCounts:
    """Live counters of one folder."""

    display_name: str
    destination_name: str
    total: int = 0
    copied: int = 0
    present: int = 0
    failed: int = 0
    bytes_copied: int = 0
    created: bool = False
    done: bool = False
    error: str | None = None
    note: str = ""  # why the destination name is not the source's (shown in the plan)

    @property
    def processed(self) -> int:
        return self.copied + self.present + self.failed


@dataclass
class CopyResult:
    """Everything the job did, folder by folder."""

    folders: list[FolderCounts] = field(default_factory=list)
    issues: list[CopyIssue] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    dry_run: bool = False

    @property
    def errors(self) -> list[CopyIssue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[CopyIssue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    def total(self, counter: str) -> int:
        return sum(int(getattr(f, counter)) for f in self.folders)

    @property
    def duration_seconds(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()


class CopyListener:
    """Receives progress from the engine.  Every method is optional: override what you need."""

    def plan_ready(self, folders: Sequence[Folder], counts: Sequence[FolderCounts]) -> None:
        """The folders are known (``counts`` holds each one's message total from STATUS)."""

    def folder_started(self, counts: FolderCounts) -> None:
        """A folder is being copied (again, after a reconnect: counters were recomputed)."""

    def message_done(
        self, counts: FolderCounts, uid: int, outcome: MessageOutcome, size: int
    ) -> None:
        """One message was copied, found present, or failed (its issue comes separately)."""

    def folder_done(self, counts: FolderCounts) -> None:
        """A folder is finished (or failed: ``counts.error`` says why)."""

    def issue(self, issue: CopyIssue) -> None:
        """An error or warning to show and keep."""

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        """The connection was lost; trying again after ``delay`` seconds."""

    def waiting(self, delay: float, reason: str) -> None:
        """The server asked to wait (throttling): the copy goes on after ``delay`` seconds."""


class ListenerGroup(CopyListener):
    """Passes every event to several listeners, in order."""

    def __init__(self, *listeners: CopyListener) -> None:
        self.listeners = listeners

    def plan_ready(self, folders: Sequence[Folder], counts: Sequence[FolderCounts]) -> None:
        for listener in self.listeners:
            listener.plan_ready(folders, counts)

    def folder_started(self, counts: FolderCounts) -> None:
        for listener in self.listeners:
            listener.folder_started(counts)

    def message_done(
        self, counts: FolderCounts, uid: int, outcome: MessageOutcome, size: int
    ) -> None:
        for listener in self.listeners:
            listener.message_done(counts, uid, outcome, size)

    def folder_done(self, counts: FolderCounts) -> None:
        for listener in self.listeners:
            listener.folder_done(counts)

    def issue(self, issue: CopyIssue) -> None:
        for listener in self.listeners:
            listener.issue(issue)

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        for listener in self.listeners:
            listener.reconnecting(attempt, delay, reason)

    def waiting(self, delay: float, reason: str) -> None:
        for listener in self.listeners:
            listener.waiting(delay, reason)
