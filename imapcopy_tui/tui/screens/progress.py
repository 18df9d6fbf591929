"""A job's live progress, read from the job table (the copy runs in its own process)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from imapcopy_tui.errors import JobNotFoundError
from imapcopy_tui.launcher import stop_runner
from imapcopy_tui.storage.store import JobStore
from imapcopy_tui.tui.widgets.job_view import JobView

REFRESH_SECONDS = 0.5
LEAVE_HINT = ("The copy runs on its own: you can close this app or the SSH session. "
              "Reopen the app and press ctrl+s (Status) to follow it.")


class ProgressScreen(Screen[None]):
    """Refreshes twice a second from SQLite; never waits on the copy."""

    BINDINGS = [
        Binding("escape", "home", "New copy"),
        Binding("ctrl+x", "stop", "Stop"),
    ]

    def __init__(self, store: JobStore, job_id: int) -> None:
        super().__init__(name=f"progress-{job_id}")
        self.store = store
        self.job_id = job_id
        self._active = False  # whether the job runs: Stop is offered only then

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="page"):
            yield Static(f"Sync task {self.job_id}", classes="title")
            yield JobView(id="job")
            yield Static(LEAVE_HINT, id="leave-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_job()
        self.set_interval(REFRESH_SECONDS, self.refresh_job)

    def refresh_job(self) -> None:
        try:
            job = self.store.get(self.job_id)
        except JobNotFoundError:
            return
        self.query_one(JobView).show(job)
        self.query_one("#leave-hint", Static).display = job.state.active
        if job.state.active != self._active:
            self._active = job.state.active
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self._active
        return True

    def action_stop(self) -> None:
        try:
            job = self.store.get(self.job_id)
        except JobNotFoundError:
            return
        if stop_runner(job):
            self.notify(
                f"Stopping task {self.job_id}: it records where it is. Start the same sync "
                "again to resume it.",
                markup=False,
            )
        else:
            self.notify(f"Task {self.job_id} is not running on this machine.", markup=False)

    def action_home(self) -> None:
        self.app.action_home()  # type: ignore[attr-defined]
