"""Both connections passed: what will happen, and the Sync button."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Header, Label, Select, Static

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyResult
from imapcopy_tui.engine.session import Compression
from imapcopy_tui.errors import ImapCopyError
from imapcopy_tui.launcher import launch_detached
from imapcopy_tui.plan import plan_lines
from imapcopy_tui.storage.store import JobStore
from imapcopy_tui.tui.messages import JobStarted
from imapcopy_tui.tui.widgets import show_message
from imapcopy_tui.tui.widgets.tickbox import Tickbox

GENERAL_ERROR = "An error occurred while starting the synchronisation."
# COMPRESS=DEFLATE (RFC 4978), the CLI's --compress auto|on|off, in the user's terms.
COMPRESSION_CHOICES = [
    ("Automatic (only over a slow link)", Compression.AUTO.value),
    ("Always, when the server offers it", Compression.ON.value),
    ("Never", Compression.OFF.value),
]


def _describe(account: Account) -> str:
    return f"{account.login} on {account.host}:{account.port} ({account.security.value})"


# The accounts, and an event set when the plan is no longer wanted.
Preview = Callable[[Account, Account, threading.Event], CopyResult]


def preview_copy(source: Account, destination: Account, cancel: threading.Event) -> CopyResult:
    """Log in to both and make the plan (nothing is read or created); ``cancel`` cuts the
    connections and ends it with CopyCancelled."""
    return Copier(source, destination, MemoryLedger(), cancel=cancel).preview()


class SyncScreen(Screen[None]):
    """The guide's "Synchronise" step, with a summary of what the copy will do."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+y", "sync", "Sync", priority=True),
    ]

    def __init__(
        self,
        store: JobStore,
        source: Account,
        destination: Account,
        connection_limit: int | None = None,
        preview: Preview = preview_copy,
        size_limit: int | None = None,
        compress: Compression = CopyOptions.compress,
    ) -> None:
        super().__init__(name="sync")
        self.preview = preview
        self.store = store
        self.source = source
        self.destination = destination
        # The providers' limit on connections per account (from the presets), if any.
        self.connection_limit = connection_limit
        self.size_limit = size_limit  # the destination provider's largest message, if known
        self.compress = compress  # preselected: the choice made for the last copy
        # Set when the screen goes: a plan still waiting for a server stops, rather than
        # holding two logins (and a thread) until the connect timeout.
        self._plan_unwanted = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="page"):
            yield Static("Step 3 of 3 - copy", classes="title")
            yield Static(
                f"From  {_describe(self.source)}\n"
                f"Into  {_describe(self.destination)}\n"
                "Every message is copied with its flags and dates; missing folders are\n"
                "created. Nothing is deleted or changed on either side, and mail already\n"
                "there is not copied twice. It can take hours: you may close the app.",
                id="summary",
                markup=False,
            )
            with VerticalScroll(id="plan-box"):
                yield Static("Making the plan: which folder goes where...", id="plan",
                             markup=False)
            yield Tickbox("Send a report to the destination inbox at the end", value=True,
                           id="report")
            with Horizontal(classes="field", id="compress-row"):
                yield Label("Compression", classes="field-label")
                yield Select(COMPRESSION_CHOICES, value=self.compress.value,
                             allow_blank=False, id="compress", compact=True)
            yield Static("", id="sync-error", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Sync", variant="success", id="sync")
                yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sync", Button).focus()
        self.query_one("#plan-box").border_title = "Plan: where each folder goes"
        self._make_plan()

    def on_unmount(self) -> None:
        self._plan_unwanted.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan",
          description="plan preview")  # fmt: skip
    def _make_plan(self) -> None:
        try:
            lines = plan_lines(self.preview(self.source, self.destination, self._plan_unwanted))
            text = "\n".join(lines)
        except ImapCopyError as exc:
            text = f"The plan could not be made ({exc}); the copy can still start."
        self.app.call_from_thread(self._show_plan, text)

    def _show_plan(self, text: str) -> None:
        if self.is_attached:
            self.query_one("#plan", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "sync":
            self.action_sync()
        else:
            self.action_back()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_sync(self) -> None:
        error = self.query_one("#sync-error", Static)
        try:
            job = self.store.create_job(self.source, self.destination)
        except ImapCopyError as exc:
            # The guide's form: the general message, then the precise reason.
            reason = str(exc).rstrip(".")
            show_message(error, f"{GENERAL_ERROR} {reason[:1].upper()}{reason[1:]}.")
            return
        options = CopyOptions(
            send_report=self.query_one("#report", Checkbox).value,
            connection_limit=self.connection_limit,  # the engine chooses within it
            max_message_bytes=self.size_limit,
            compress=Compression(str(self.query_one("#compress", Select).value)),
        )
        runner = launch_detached(self.store, job.id, self.source, self.destination, options)
        self.post_message(JobStarted(job.id, runner, options.compress))
