"""The connection test, in the guide's two visible steps."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static
from textual.worker import get_current_worker

from imapcopy_tui.config.presets import Preset
from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.session import ConnectStep, test_connection
from imapcopy_tui.errors import AuthError, ImapCopyError
from imapcopy_tui.tui.messages import (
    ConnectFinished,
    ConnectionVerified,
    ConnectStepReached,
)
from imapcopy_tui.tui.widgets import show_message

TESTING = "Testing the connection to your account..."
ESTABLISHED = "The connection to your account has been established."


class ConnectScreen(Screen[None]):
    """Runs the test in a thread; Escape cancels it (or goes back to the settings)."""

    BINDINGS = [
        Binding("escape", "back", "Back to settings"),
        Binding("enter", "go_on", "Continue", show=False),
    ]

    def __init__(self, side: str, preset: Preset, account: Account) -> None:
        super().__init__(name=f"connect-{side}")
        self.side = side
        self.preset = preset
        self.account = account
        self.passed = False
        self.finished = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="page"):
            yield Static(f"{self.side.capitalize()} mailbox: {self.account.login} on "
                         f"{self.account.host}:{self.account.port} "
                         f"({self.account.security.value})", classes="title", markup=False)
            yield Static("", id="step-1", classes="step")
            yield Static("", id="step-2", classes="step")
            yield Static("", id="error", classes="field-error", markup=False)
            yield Static("", id="needs", classes="note", markup=False)
            if not self.account.verify_certificate:
                yield Static("Warning: the server's certificate is not checked.",
                             classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Continue", variant="primary", id="continue", disabled=True)
                yield Button("Back to settings", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#needs", Static).display = False
        self.query_one("#back", Button).focus()
        self.run_test()

    @work(thread=True, exit_on_error=False, group="connect", description="connection test")
    def run_test(self) -> None:
        # The account (and its password) is read from the screen, never passed to the
        # worker: a worker's arguments end up in its description.
        worker = get_current_worker()

        def step(reached: ConnectStep) -> None:
            if not worker.is_cancelled:
                self.post_message(ConnectStepReached(reached))

        try:
            test_connection(self.account, on_step=step)
        except ImapCopyError as exc:
            error: str | None = str(exc)
            refused = isinstance(exc, AuthError)
        else:
            error, refused = None, False
        if not worker.is_cancelled:
            self.post_message(ConnectFinished(error, refused))

    def on_connect_step_reached(self, message: ConnectStepReached) -> None:
        if message.step is ConnectStep.CONNECTING:
            self.query_one("#step-1", Static).update(f"1. {TESTING}")

    def on_connect_finished(self, message: ConnectFinished) -> None:
        self.finished = True
        if message.error is None:
            self.passed = True
            self.query_one("#step-2", Static).update(f"2. {ESTABLISHED}")
            button = self.query_one("#continue", Button)
            button.disabled = False
            button.focus()
        else:
            self.query_one("#step-2", Static).update("2. The connection failed:")
            self.query_one("#error", Static).update(message.error)
            if message.refused and self.preset.needs_text:
                show_message(self.query_one("#needs", Static), self.preset.needs_text)
            self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "continue":
            self.action_go_on()
        else:
            self.action_back()

    def action_go_on(self) -> None:
        if self.passed:
            self.post_message(ConnectionVerified(self.side, self.preset, self.account))

    def action_back(self) -> None:
        self.workers.cancel_group(self, "connect")
        self.app.pop_screen()
