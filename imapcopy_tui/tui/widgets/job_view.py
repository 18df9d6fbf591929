"""A live view of one job: the guide's status sentence, counters, progress bars, errors."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar, Static

from imapcopy_tui.status import describe, human_size, waiting_line
from imapcopy_tui.storage.store import Job

MAX_FOLDER_BARS = 3
MAX_ERRORS = 4


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def _speed(rate: float) -> str:
    """``12 messages/s``; below 10 with a decimal (a slow link's 0.4/s is not 0)."""
    return f"{rate:.1f} messages/s" if 0 < rate < 10 else f"{rate:.0f} messages/s"


class JobView(Vertical):
    """Shows a :class:`Job` read from the job table; call :meth:`show` with fresh rows."""

    DEFAULT_CSS = """
    JobView { height: auto; }
    JobView .job-headline { text-style: bold; }
    JobView .job-route { color: $text-muted; }
    JobView ProgressBar { width: 1fr; }
    JobView .job-folder-line { height: 1; }
    JobView .job-folder-name { width: 24; }
    JobView .job-errors { color: $error; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._samples: list[tuple[float, int]] = []

    def compose(self) -> ComposeResult:
        # Server words and folder names may hold brackets: never read them as markup.
        yield Static("", classes="job-headline", id="job-headline", markup=False)
        yield Static("", classes="job-route", id="job-route", markup=False)
        yield Static("", id="job-counters", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="job-bar")
        for n in range(MAX_FOLDER_BARS):
            with Horizontal(classes="job-folder-line", id=f"job-folder-{n}"):
                yield Label("", classes="job-folder-name", markup=False)
                yield ProgressBar(total=None, show_eta=False, show_percentage=True)
        yield Static("", classes="job-errors", id="job-errors", markup=False)

    def _rate(self, job: Job) -> float:
        """Messages per second over the last minute of samples."""
        now = time.monotonic()
        self._samples.append((now, job.messages_copied))
        self._samples = [s for s in self._samples if now - s[0] <= 60] or self._samples[-1:]
        first_time, first_count = self._samples[0]
        if now - first_time < 0.5:
            return 0.0
        return max(job.messages_copied - first_count, 0) / (now - first_time)

    def show(self, job: Job) -> None:
        status = describe(job)
        self.query_one("#job-headline", Static).update(status.headline)
        self.query_one("#job-route", Static).update(status.details[0] if status.details else "")
        processed = job.messages_copied + job.messages_present + job.messages_failed
        if job.state.active:
            rate = self._rate(job)
            speed = _speed(rate)
            if rate > 0 and job.messages_total > processed:
                speed += f", about {_duration((job.messages_total - processed) / rate)} left"
        else:
            # No speed once it is over: "0 messages/s" misleads, and an average would
            # count the time a resumed job spent interrupted (only its first start is kept).
            speed = ""
        self.query_one("#job-counters", Static).update(
            f"Folders {job.folders_done}/{job.folders_total}   "
            f"Messages {processed}/{job.messages_total}: "
            f"{job.messages_copied} copied, {job.messages_present} already there, "
            f"{job.messages_failed} failed\n"
            f"{human_size(job.bytes_copied)} copied" + (f", {speed}" if speed else "")
        )
        bar = self.query_one("#job-bar", ProgressBar)
        bar.update(total=max(job.messages_total, 1) if job.folders_total else None,
                   progress=processed)
        busy = [f for f in job.folders if not f.done and (f.copied + f.present + f.failed) > 0]
        for n in range(MAX_FOLDER_BARS):
            line = self.query_one(f"#job-folder-{n}", Horizontal)
            line.display = n < len(busy)
            if n < len(busy):
                folder = busy[n]
                line.query_one(Label).update(folder.name[:23])
                line.query_one(ProgressBar).update(
                    total=max(folder.total, 1),
                    progress=folder.copied + folder.present + folder.failed,
                )
        errors = [f"! {e}" for e in job.errors][-MAX_ERRORS:]
        waiting = waiting_line(job)
        self.query_one("#job-errors", Static).update(
            "\n".join(([waiting] if waiting else []) + errors)
        )
