"""Every sync task in the job table."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from imapcopy_tui.storage.store import Job, JobStore
from imapcopy_tui.tui.messages import OpenJob

ADDRESS_WIDTH = 18  # five columns must fit in 80 terminal columns


def _fit(text: str) -> str:
    return text if len(text) <= ADDRESS_WIDTH else text[: ADDRESS_WIDTH - 1] + "…"


def _state(job: Job) -> str:
    """The state, and which later task took over one that did not finish: "interrupted"
    alone reads as "start it again" (its own screen says so in full)."""
    later = job.taken_over_by
    return job.state.value if later is None else f"{job.state.value} → #{later.id}"


class JobsScreen(Screen[None]):
    """A table of jobs, newest first; Enter opens one."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", priority=True),
    ]

    def __init__(self, store: JobStore) -> None:
        super().__init__(name="jobs")
        self.store = store

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="page"):
            yield Static("All sync tasks", classes="title")
            yield DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
            yield Static("", id="empty", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Done: copied, already there or failed; a resumed task's first run counts too.
        table.add_columns("#", "State", "Source", "Destination", "Done")
        self.reload()
        self.set_interval(1.0, self.reload)
        table.focus()

    def reload(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        jobs = self.store.jobs()
        for job in jobs:
            table.add_row(
                str(job.id), _state(job), _fit(job.source_login),
                _fit(job.destination_login),
                f"{job.messages_copied + job.messages_present + job.messages_failed}"
                f"/{job.messages_total}",
                key=str(job.id),
            )
        if jobs:
            table.move_cursor(row=min(row, len(jobs) - 1))
        self.query_one("#empty", Static).update("" if jobs else "No sync task yet.")

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.post_message(OpenJob(int(key or 0)))

    def action_back(self) -> None:
        self.app.pop_screen()
