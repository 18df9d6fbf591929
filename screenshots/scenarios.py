"""Each screen of the app in a reproducible state: for the snapshot tests and for the
pictures in this folder (``python screenshots/make.py``).

Nothing here touches a network: jobs are seeded in a throw-away database and the connection
test is replaced by one that answers at once.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.progress import CopyIssue, CopyResult, FolderCounts
from imapcopy_tui.engine.session import ConnectStep
from imapcopy_tui.errors import AuthError
from imapcopy_tui.storage.store import JobState, JobStore
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.connect import ConnectScreen
from imapcopy_tui.tui.screens.progress import ProgressScreen
from imapcopy_tui.tui.screens.settings import SettingsScreen
from imapcopy_tui.tui.screens.sync import SyncScreen

SIZE = (80, 24)
DEMO = "demo"  # never used to log in: the connection test is faked
SOURCE = Account(host="ssl0.ovh.net", login="support@example.net", password=DEMO,
                 port=993, security=Security.TLS)
DESTINATION = Account(host="ex.mail.ovh.net", login="exchange@example.net",
                      password=DEMO, port=993, security=Security.TLS, role="destination")
FOLDERS = [
    ("INBOX", 1200, 1200, 0, 0, True), ("Archive", 3400, 3400, 0, 0, True),
    ("Archive/2019", 2100, 870, 12, 0, False), ("Données", 40, 0, 0, 0, False),
    ("Sent", 980, 0, 0, 0, False), ("Old Mail Box", 2, 0, 0, 0, False),
]


def _counts(done_all: bool) -> list[FolderCounts]:
    return [
        FolderCounts(name, name, total=total, copied=total if done_all else copied,
                     present=0 if done_all else present, failed=failed,
                     bytes_copied=(total if done_all else copied) * 48_000,
                     created=name != "INBOX", done=done_all or done)
        for name, total, copied, present, failed, done in FOLDERS
    ]


def demo_plan(_source: Account, _destination: Account, _cancel: threading.Event) -> CopyResult:
    """What the preview answers for an OVH MX Plan -> OVH Exchange move (French names)."""
    folders = [
        FolderCounts("INBOX", "INBOX", total=1200),
        FolderCounts("Archive", "Archive", total=3400, created=True),
        FolderCounts("Archive/2019", "Archive/2019", total=2100, created=True),
        FolderCounts("Envoyés", "Sent Items", total=980, note="the destination's Sent folder"),
        FolderCounts("Corbeille", "Deleted Items", total=45,
                     note="the destination's Trash folder"),
        FolderCounts("Old Mail Box", "Old Mail Box", total=2, created=True),
    ]
    return CopyResult(folders=folders)


def seed_jobs(store: JobStore) -> dict[str, int]:
    """A finished job, one with errors, one running (owned by this process)."""
    jobs: dict[str, int] = {}
    finished = store.create_job(
        Account("imap.gmail.com", "alice@gmail.com", "x", role="source"), DESTINATION)
    store.start(finished.id)
    store.save_progress(finished.id, _counts(True))
    store.end(finished.id, JobState.FINISHED)
    jobs["finished"] = finished.id
    errors = store.create_job(
        Account("imap.free.fr", "bob@free.fr", "x", role="source"), DESTINATION)
    store.start(errors.id)
    store.save_progress(errors.id, _counts(True), [
        CopyIssue("destination account exchange@example.net on ex.mail.ovh.net:993: the "
                  "server answered: [OVERQUOTA] Quota exceeded", folder="Archive", uid=1812),
    ])
    store.end(errors.id, JobState.FINISHED_WITH_ERRORS)
    jobs["errors"] = errors.id
    running = store.create_job(SOURCE, DESTINATION)
    store.start(running.id)
    store.save_progress(running.id, _counts(False))
    jobs["running"] = running.id
    return jobs


def make_app(workdir: Path) -> ImapCopyApp:
    """The app on a private database, settings and presets (none of the user's)."""
    return ImapCopyApp(db_path=workdir / "jobs.sqlite3",
                       presets_file=workdir / "no-user-presets.toml",
                       settings_file=workdir / "settings.toml")


def _fake_test_connection(fails: bool) -> Callable[..., frozenset[str]]:
    def fake(account: Account, *, on_step: Callable[[ConnectStep], None] | None = None,
             **_: object) -> frozenset[str]:
        if on_step:
            on_step(ConnectStep.CONNECTING)
        if fails:
            raise AuthError(f"{account.describe()}: the server refused the login or password "
                            "([AUTHENTICATIONFAILED] Authentication failed.); check them, or "
                            "use an app password if the provider requires one")
        if on_step:
            on_step(ConnectStep.AUTHENTICATED)
        return frozenset()

    return fake


@contextmanager
def fake_connection_test(fails: bool) -> Iterator[None]:
    with mock.patch("imapcopy_tui.tui.screens.connect.test_connection",
                    _fake_test_connection(fails)):
        yield


def _cursor_stays_on(self: Input) -> None:
    self._cursor_visible = True


@contextmanager
def steady_cursor() -> Iterator[None]:
    """The text cursor stops blinking: a picture taken 0.5 s late (a slow machine) would
    otherwise show it off, and differ from the reviewed one."""
    with mock.patch.object(Input, "_toggle_cursor", _cursor_stays_on):
        yield


Step = Callable[[Pilot[int]], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    """How to bring the app to one screen: keys to press, or a coroutine to run first."""

    name: str
    press: tuple[str, ...] = ()
    before: Step | None = None
    connection_fails: bool | None = None  # patch the connection test this way


async def _settle(pilot: Pilot[int]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _store(app: ImapCopyApp) -> JobStore:
    assert app.store is not None, "the scenarios' app always has its database"
    return app.store


def _push(make: Callable[[ImapCopyApp], Screen[Any]]) -> Step:
    async def run(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ImapCopyApp)
        app.push_screen(make(app))
        await _settle(pilot)

    return run


def _job(kind: str) -> Step:
    async def run(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ImapCopyApp)
        ids = seed_jobs(_store(app))
        app.push_screen(ProgressScreen(_store(app), ids[kind]))
        await _settle(pilot)

    return run


async def _oauth2_settings(pilot: Pilot[int]) -> None:
    """Microsoft 365's settings, filled in: OAuth2 with a token command, no password."""
    app = pilot.app
    assert isinstance(app, ImapCopyApp)
    screen = SettingsScreen("source", app.catalogue.get("microsoft365"), None)
    app.push_screen(screen)
    await _settle(pilot)
    screen.query_one("#login", Input).value = "alice@contoso.com"
    screen.query_one("#token", Input).value = "~/bin/ms-imap-token alice@contoso.com"
    screen.query_one("#token", Input).focus()
    await _settle(pilot)


async def _seed(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, ImapCopyApp)
    seed_jobs(_store(app))
    await pilot.pause()


SCENARIOS = [
    Scenario("1-service"),
    Scenario("2-settings", press=("o", "t", "h", "e", "r", "enter")),
    Scenario("3-connection-ok", before=_push(lambda app: ConnectScreen(
        "source", app.catalogue.get("ovh_mx_plan"), SOURCE)), connection_fails=False),
    Scenario("4-connection-failed", before=_push(lambda app: ConnectScreen(
        "source", app.catalogue.get("ovh_mx_plan"), SOURCE)), connection_fails=True),
    Scenario("5-sync", before=_push(
        lambda app: SyncScreen(_store(app), SOURCE, DESTINATION, preview=demo_plan))),
    Scenario("6-progress", before=_job("running")),
    Scenario("7-finished-with-errors", before=_job("errors")),
    Scenario("8-status", before=_seed, press=("ctrl+s", *"alice@gmail.com", "enter")),
    Scenario("9-jobs", before=_seed, press=("ctrl+o",)),
    Scenario("10-help", press=("f1",)),
    Scenario("11-light-theme", press=("f2", *"gm")),
    Scenario("12-oauth2-settings", before=_oauth2_settings),
    # The compression list open, reached from the Sync button with Shift+Tab.
    Scenario("13-sync-compression", before=_push(
        lambda app: SyncScreen(_store(app), SOURCE, DESTINATION, preview=demo_plan)),
        press=("shift+tab", "enter")),
]
