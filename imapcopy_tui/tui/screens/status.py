"""The guide's status lookup: type the source address, read the state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from imapcopy_tui.errors import JobNotFoundError
from imapcopy_tui.storage.store import JobStore
from imapcopy_tui.tui.widgets.job_view import JobView


class StatusScreen(Screen[None]):
    """Finds the newest job of a source address; follows it live while it runs."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, store: JobStore, address: str = "") -> None:
        super().__init__(name="status")
        self.store = store
        self.address = address
        self.job_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="page"):
            yield Static("Status of a sync", classes="title")
            yield Static("Type the source e-mail address and press Enter.", classes="hint")
            yield Input(value=self.address, placeholder="alice@example.com", id="address")
            yield Static("", id="not-found", markup=False)
            yield JobView(id="job")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(JobView).display = False
        self.query_one("#address", Input).focus()
        if self.address:
            self.look_up(self.address)
        self.set_interval(0.5, self.refresh_job)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.look_up(event.value.strip())

    def look_up(self, address: str) -> None:
        view = self.query_one(JobView)
        missing = self.query_one("#not-found", Static)
        job = None
        if address:
            try:
                job = self.store.latest_for_source(address)
            except JobNotFoundError:
                pass
        if job is None:
            self.job_id = None
            view.display = False
            missing.update(
                f"There is no sync task for {address}." if address
                else "Type the source e-mail address (or login) first."
            )
            return
        self.job_id = job.id
        missing.update("")
        view.display = True
        view.show(job)

    def refresh_job(self) -> None:
        if self.job_id is not None:
            self.query_one(JobView).show(self.store.get(self.job_id))

    def action_back(self) -> None:
        self.app.pop_screen()
