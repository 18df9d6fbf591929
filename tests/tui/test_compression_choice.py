"""The Sync screen's compression choice (the CLI's --compress), made with the keyboard."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Select

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.progress import CopyResult
from imapcopy_tui.engine.session import Compression
from imapcopy_tui.storage.store import JobState, JobStore
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.messages import ConnectionVerified
from imapcopy_tui.tui.screens import sync as sync_screen
from imapcopy_tui.tui.screens.progress import ProgressScreen
from imapcopy_tui.tui.screens.sync import SyncScreen
from tests.corpus import read_folder
from tests.dovecot import DovecotServer
from tests.faultproxy import FaultProxy
from tests.helpers import account, is_report
from tests.tui.test_flow import arrive, record_launches, wait_for

SIZE = (80, 24)


async def choose_compression(pilot: Pilot[int], downs: int) -> None:
    """From the Sync button, as a user does: Shift+Tab to the list, open it, go down
    ``downs`` times, confirm; Tab back to Sync."""
    screen = pilot.app.screen
    assert isinstance(screen, SyncScreen)
    assert isinstance(pilot.app.focused, Button) and pilot.app.focused.id == "sync"
    await pilot.press("shift+tab")
    assert pilot.app.focused is screen.query_one("#compress", Select)
    await pilot.press("enter", *["down"] * downs, "enter")
    await pilot.pause()
    await pilot.press("tab")
    assert isinstance(pilot.app.focused, Button) and pilot.app.focused.id == "sync"


@pytest.mark.parametrize(("downs", "expected"), [
    (0, Compression.AUTO), (1, Compression.ON), (2, Compression.OFF),
], ids=["automatic", "always", "never"])
async def test_the_choice_reaches_the_copy_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, downs: int, expected: Compression
) -> None:
    """Automatic (the CLI's default), always, never: the option the job is started with,
    in the form the detached runner reads it back."""
    started: list[CopyOptions] = []

    def fake_launch(store: object, job_id: int, src: object, dst: object,
                    options: CopyOptions) -> subprocess.Popen[bytes]:
        started.append(options)
        return subprocess.Popen(["true"])

    monkeypatch.setattr(sync_screen, "launch_detached", fake_launch)
    src = Account(host="imap.a.example", login="a", password="x")
    dst = Account(host="imap.b.example", login="b", password="y", role="destination")
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(SyncScreen(app.store, src, dst))
        await pilot.pause()
        await choose_compression(pilot, downs)
        await pilot.press("enter")  # Sync
        # The button's press reaches the screen through the message queues: wait for the
        # launch rather than leave the app at once (see arrive in test_flow).
        await wait_for(pilot, lambda: started)
    (options,) = started
    assert options.compress is expected
    sent = json.loads(json.dumps(options.to_dict()))  # as launch_detached passes it on
    assert CopyOptions.from_dict(sent).compress is expected
    assert options.send_report is True  # the other choices are left as they were


async def test_the_choice_is_preselected_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never, chosen for one copy, is what the Sync screen shows first in the next app
    (kept in the settings file); before any choice, Automatic."""
    monkeypatch.setattr(sync_screen, "launch_detached",
                        lambda *_args: subprocess.Popen(["true"]))  # fmt: skip
    settings_file = tmp_path / "settings.toml"
    src = Account(host="imap.a.example", login="a", password="x")
    dst = Account(host="imap.b.example", login="b", password="y", role="destination")
    shown: list[object] = []
    for run in ("first", "next"):
        app = ImapCopyApp(db_path=tmp_path / f"{run}.sqlite3", settings_file=settings_file)
        async with app.run_test(size=SIZE) as pilot:
            app.source = src  # the source side is done: its test passed
            app.post_message(ConnectionVerified("destination", app.catalogue.get("other"), dst))
            await arrive(pilot, SyncScreen)
            shown.append(app.screen.query_one("#compress", Select).value)
            if run == "first":
                await choose_compression(pilot, 2)
                await pilot.press("enter")  # Sync
                await arrive(pilot, ProgressScreen)
    assert shown == [Compression.AUTO.value, Compression.OFF.value]
    assert 'compress = "off"' in settings_file.read_text()


def _fill(server: DovecotServer, user: str) -> None:
    """Three plain-text mails (they compress well) with flags and dates of their own."""
    client = server.client(user)
    try:
        when = datetime(2022, 3, 4, 5, 6, tzinfo=UTC)
        for number, flags in enumerate([(b"\\Seen",), (b"\\Flagged", b"$Work"), ()]):
            body = (f"Subject: report {number}\r\nFrom: a@example.org\r\n\r\n"
                    + "the quarterly report and the budget, once more.\r\n" * 400)
            client.append("INBOX", body.encode(), flags, when + timedelta(days=number))
    finally:
        client.logout()


def _inbox(server: DovecotServer, user: str) -> list[Any]:
    client = server.client(user)
    try:
        return [r for r in read_folder(client, "INBOX") if not is_report(r)]
    finally:
        client.logout()


@pytest.mark.dovecot
async def test_always_reaches_the_detached_runner_and_compresses(
    tmp_path: Path, dovecot_zlib: DovecotServer, make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """"Always, when the server offers it", chosen with the keyboard, makes the detached
    runner send COMPRESS on every connection of both sides (seen by a proxy; automatic
    would not on loopback, see test_auto_does_not_compress_on_loopback), and the mail
    arrives identical: bytes, flags, internal dates."""
    src_user, dst_user = make_user(), make_user()
    _fill(dovecot_zlib, src_user)
    db = tmp_path / "jobs.sqlite3"
    with FaultProxy(dovecot_zlib.host, dovecot_zlib.plain_port) as s, FaultProxy(
        dovecot_zlib.host, dovecot_zlib.plain_port
    ) as d:
        src = account(dovecot_zlib, src_user, port=s.port)
        dst = account(dovecot_zlib, dst_user, "destination", port=d.port)
        launched = record_launches(monkeypatch)
        app = ImapCopyApp(db_path=db)
        async with app.run_test(size=SIZE) as pilot:
            # No plan: its connections, made before the choice, are not the job's.
            app.push_screen(SyncScreen(app.store, src, dst, preview=lambda *_: CopyResult()))
            await pilot.pause()
            await choose_compression(pilot, 1)
            await pilot.press("enter")  # Sync
            await arrive(pilot, ProgressScreen)
            (runner,) = launched
            store = JobStore(db)
            deadline = time.monotonic() + 60
            while store.jobs()[0].state.active and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        (job,) = store.jobs()
        assert job.state is JobState.FINISHED, job.failure
        assert runner.wait(10) == 0
        for proxy in (s, d):
            assert proxy.connections >= 1
            assert proxy.commands["COMPRESS"] == proxy.connections
    assert _inbox(dovecot_zlib, dst_user) == _inbox(dovecot_zlib, src_user)
    assert len(_inbox(dovecot_zlib, dst_user)) == 3
