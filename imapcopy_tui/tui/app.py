"""The imapcopy terminal app: the flow of the guide, from service choice to status."""

from __future__ import annotations

import subprocess
import time
from dataclasses import replace
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from imapcopy_tui.config.presets import PresetCatalogue, load_presets_lenient
from imapcopy_tui.config.settings import (
    RememberedAccount,
    Settings,
    load_settings,
    save_settings,
)
from imapcopy_tui.engine.account import Account
from imapcopy_tui.errors import ConfigError
from imapcopy_tui.locations import default_db_path
from imapcopy_tui.storage.store import JobStore
from imapcopy_tui.tui.messages import (
    ConnectionVerified,
    JobStarted,
    OpenJob,
    ServiceChosen,
    SettingsEntered,
)
from imapcopy_tui.tui.screens.connect import ConnectScreen
from imapcopy_tui.tui.screens.help import HelpScreen
from imapcopy_tui.tui.screens.jobs import JobsScreen
from imapcopy_tui.tui.screens.progress import ProgressScreen
from imapcopy_tui.tui.screens.service import ServiceScreen
from imapcopy_tui.tui.screens.settings import SettingsScreen
from imapcopy_tui.tui.screens.status import StatusScreen
from imapcopy_tui.tui.screens.store_error import StoreErrorScreen
from imapcopy_tui.tui.screens.sync import SyncScreen

# Long enough to read the start-up notice of running tasks, and its correction.
STARTUP_NOTICE_SECONDS = 10.0


class ImapCopyApp(App[int]):
    """Owns the flow: screens post messages up, the app decides what comes next."""

    TITLE = "imapcopy"
    SUB_TITLE = "copy a mailbox into another"
    CSS_PATH = "app.tcss"
    # Themes are switched with F2; the palette would only crowd an 80-column footer.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+s", "status", "Status"),
        Binding("ctrl+o", "jobs", "All tasks"),
        Binding("f2", "toggle_theme", "Theme", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False),
        # Taken by the app before the key reaches a field: typed ahead ("login<Tab>
        # password", as a password manager or a fast typist sends it), the text after the
        # Tab would otherwise land in the field the Tab leaves, a password in clear.
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    def __init__(
        self,
        db_path: Path | None = None,
        presets_file: Path | None = None,
        settings_file: Path | None = None,
    ) -> None:
        super().__init__()
        self.store: JobStore | None = None
        self.store_error: ConfigError | None = None
        try:
            self.store = JobStore(db_path or default_db_path())
        except ConfigError as error:  # shown instead of the flow: see on_mount
            self.store_error = error
        self.settings_file = settings_file
        catalogue, preset_errors = load_presets_lenient(presets_file)
        self.catalogue: PresetCatalogue = catalogue
        self.settings, settings_errors = load_settings(settings_file)
        self.config_errors: list[ConfigError] = preset_errors + settings_errors
        self.source: Account | None = None
        self.source_limit: int | None = None  # the source preset's max_connections
        self.runners: list[subprocess.Popen[bytes]] = []
        # The tasks the start-up notice calls running (id: source login), watched while
        # the notice is on screen so that it is not left saying so of a task that ended.
        self._noticed_running: dict[int, str] = {}
        self._notice_ends_at = 0.0

    def on_mount(self) -> None:
        if self.store is None:
            self.push_screen(StoreErrorScreen(str(self.store_error)))
            return
        self.push_screen(ServiceScreen("source", self.catalogue))
        for error in self.config_errors:
            # markup=False: "[preset]" in the message is text, and a file's content is no
            # markup for the notice to render or choke on.
            self.notify(str(error), title="Configuration ignored", severity="warning",
                        timeout=15, markup=False)
        active = [j for j in self.store.jobs() if j.state.active]
        if active:
            self.notify(
                f"{len(active)} sync task(s) running, e.g. {active[0].source_login}: "
                "press ctrl+o to follow.",
                timeout=STARTUP_NOTICE_SECONDS,
                markup=False,
            )
            self._noticed_running = {j.id: j.source_login for j in active}
            self._notice_ends_at = time.monotonic() + STARTUP_NOTICE_SECONDS
        self.set_interval(2.0, self._every_two_seconds)

    def _every_two_seconds(self) -> None:
        # Runners we started are our children: collect their exit status so none lingers.
        self.runners = [r for r in self.runners if r.poll() is None]
        self._correct_startup_notice()

    def _correct_startup_notice(self) -> None:
        """Say so when a task the start-up notice calls running ends while it is shown.

        Textual has no public way to withdraw one notice, and clearing them all would drop
        the configuration warnings: a second notice, outliving the first, corrects it.
        """
        if not self._noticed_running or self.store is None:
            return
        if time.monotonic() >= self._notice_ends_at:
            self._noticed_running = {}  # the notice is gone: nothing left to correct
            return
        still = {j.id for j in self.store.jobs() if j.state.active}
        for job_id, login in list(self._noticed_running.items()):
            if job_id not in still:
                del self._noticed_running[job_id]  # each task's end is told once
                self.notify(
                    f"The sync task of {login} has ended: press ctrl+o to see how it ended.",
                    timeout=STARTUP_NOTICE_SECONDS,
                    markup=False,
                )

    # --- the flow ------------------------------------------------------------------

    def on_service_chosen(self, message: ServiceChosen) -> None:
        self.push_screen(
            SettingsScreen(message.side, message.preset, self.settings.for_side(message.side))
        )

    def on_settings_entered(self, message: SettingsEntered) -> None:
        self.push_screen(ConnectScreen(message.side, message.preset, message.account))

    def on_connection_verified(self, message: ConnectionVerified) -> None:
        account = message.account
        remembered = RememberedAccount(
            preset=message.preset.key,
            login=account.login,
            host=account.host,
            port=account.port,
            security=account.security.value,
            ca_file=account.ca_file or "",
            verify_certificate=account.verify_certificate,
            sign_in="token_file" if account.token_file else (
                "token_command" if account.token_command else "password"),
            token_source=account.token_file or account.token_command or "",
        )
        self._remember(self.settings.with_side(message.side, remembered))
        if message.side == "source":
            self.source = account
            self.source_limit = message.preset.max_connections
            self.push_screen(ServiceScreen("destination", self.catalogue))
        elif self.source is not None and self.store is not None:
            limits = [n for n in (self.source_limit, message.preset.max_connections) if n]
            self.push_screen(
                SyncScreen(
                    self.store,
                    self.source,
                    account,
                    min(limits) if limits else None,
                    size_limit=message.preset.max_message_bytes,
                    compress=self.settings.compress,
                )
            )

    def _remember(self, settings: Settings) -> None:
        self.settings = settings
        try:
            save_settings(self.settings, self.settings_file)
        except ConfigError as exc:  # a malformed file is the user's: never overwritten
            self.notify(str(exc), severity="warning", timeout=15, markup=False)
        except OSError as exc:
            self.notify(f"Settings not remembered: {exc}", severity="warning", markup=False)

    def on_job_started(self, message: JobStarted) -> None:
        if message.compress is not self.settings.compress:
            self._remember(replace(self.settings, compress=message.compress))
        self.runners.append(message.runner)
        self.source = None  # the passwords are not kept once the runner has them
        self.action_home()
        if self.store is not None:
            self.push_screen(ProgressScreen(self.store, message.job_id))

    def on_open_job(self, message: OpenJob) -> None:
        if self.store is not None:
            self.push_screen(ProgressScreen(self.store, message.job_id))

    # --- actions -------------------------------------------------------------------

    def action_home(self) -> None:
        """Back to the first screen."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_status(self) -> None:
        if self.store is not None and not isinstance(self.screen, StatusScreen):
            self.push_screen(StatusScreen(self.store))

    def action_jobs(self) -> None:
        if self.store is not None and not isinstance(self.screen, JobsScreen):
            self.push_screen(JobsScreen(self.store))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def run_app(db_path: Path | None = None) -> int:
    """Run the app in this terminal; return its exit code."""
    result = ImapCopyApp(db_path).run()
    return result or 0
