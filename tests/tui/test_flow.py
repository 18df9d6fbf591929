"""The whole flow, driven with the keyboard through Textual's Pilot, against real Dovecot."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from imapcopy_tui.engine.account import Account
from imapcopy_tui.launcher import launch_detached
from imapcopy_tui.storage.store import JobState, JobStore
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens import sync as sync_screen
from imapcopy_tui.tui.screens.connect import ConnectScreen
from imapcopy_tui.tui.screens.progress import ProgressScreen
from imapcopy_tui.tui.screens.service import ServiceScreen
from imapcopy_tui.tui.screens.settings import SettingsScreen
from imapcopy_tui.tui.screens.status import StatusScreen
from imapcopy_tui.tui.screens.sync import SyncScreen
from tests.corpus import Corpus
from tests.dovecot import DovecotServer
from tests.faultproxy import Action, Fault, FaultProxy
from tests.helpers import account, assert_identical, sync

pytestmark = pytest.mark.dovecot
SIZE = (80, 24)


def text_of(app: ImapCopyApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def wait_for(pilot: Pilot[int], condition: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; screen is {pilot.app.screen!r}")
        await pilot.pause(0.05)


async def arrive(pilot: Pilot[int], kind: type[Screen[Any]]) -> None:
    """Until the app shows a screen of this kind.  A step that goes through the app (the
    screen posts a message, the app pushes the next screen) takes more than one round of
    the message queues; pause() waits for the rounds queued when it is called, then for
    the process to look idle, which a process starved of CPU (a busy CI machine) can look
    at once: wait for what the step does, not for a number of pauses."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
    await pilot.pause()


def footer_text(app: ImapCopyApp) -> str:
    """The keys the footer shows, as the user reads them ("^x Stop")."""
    return "  ".join(
        str(key.render()).strip() for key in app.screen.query("FooterKey") if key.display
    )


def record_launches(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """The detached runners the Sync button starts, kept here: ``app.runners`` drops a
    runner that has ended (the app reaps them every 2 s), and a quick copy may be over
    before the test looks (7 runs in 10 of test_job_survives_the_app_exiting under load:
    the copy was over before the key press after Sync had been handled)."""
    launched: list[subprocess.Popen[bytes]] = []
    real = launch_detached

    def launch(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        launched.append(real(*args, **kwargs))
        return launched[-1]

    monkeypatch.setattr(sync_screen, "launch_detached", launch)
    return launched


async def choose_other(pilot: Pilot[int]) -> None:
    assert isinstance(pilot.app.screen, ServiceScreen)
    await pilot.press(*"other", "enter")
    await arrive(pilot, SettingsScreen)


async def type_settings(pilot: Pilot[int], server: DovecotServer, login: str,
                        password: str) -> None:
    """Fill the form as a person does: type, Tab from field to field, choose plain."""
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    await pilot.press(*login, "tab", *password, "tab", *server.host, "tab")
    await pilot.press("end", "ctrl+u", *str(server.plain_port), "tab")
    # The security list: open it, two down to "None", confirm.
    await pilot.press("enter", "down", "down", "enter")
    await pilot.pause()
    assert screen.query_one("#security").value == "plain"  # type: ignore[attr-defined]


async def test_connection(pilot: Pilot[int]) -> ConnectScreen:
    await pilot.press("ctrl+t")
    await arrive(pilot, ConnectScreen)
    screen = pilot.app.screen
    assert isinstance(screen, ConnectScreen)
    await wait_for(pilot, lambda: screen.finished)
    return screen


test_connection.__test__ = False  # type: ignore[attr-defined]


async def test_keyboard_flow_copies_everything_and_status_says_finished(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """Other → settings → two-step test, twice; Sync; the counters move to "finished";
    the status lookup says finished; every message is on the destination."""
    src_user, corpus = corpus_source
    db = tmp_path / "jobs.sqlite3"
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        await type_settings(pilot, dovecot_src, src_user, dovecot_src.password)
        connect = await test_connection(pilot)
        assert text_of(app, "#step-1") == "1. Testing the connection to your account..."
        assert text_of(app, "#step-2") == "2. The connection to your account has been established."
        await pilot.press("enter")
        await arrive(pilot, ServiceScreen)
        assert isinstance(app.screen, ServiceScreen) and app.screen.side == "destination"

        await choose_other(pilot)
        await type_settings(pilot, dovecot_dst, unique_user, dovecot_dst.password)
        await test_connection(pilot)
        await pilot.press("enter")
        await arrive(pilot, SyncScreen)
        assert f"From  {src_user} on" in text_of(app, "#summary")
        # The plan, from the real servers, before anything is copied.
        await wait_for(pilot, lambda: "INBOX" in text_of(app, "#plan"))
        plan = text_of(app, "#plan").splitlines()
        inbox = len(corpus.messages[("INBOX",)])
        assert plan[0] == f"INBOX: {inbox} message{'s' * (inbox != 1)}"
        assert "Archive/2019/Q1 (new): 2 messages" in plan
        await pilot.press("enter")  # the Sync button has the focus
        await arrive(pilot, ProgressScreen)
        progress = app.screen
        headlines: set[str] = set()

        def finished() -> bool:
            headlines.add(text_of(app, "#job-headline"))
            return "finished" in text_of(app, "#job-headline")

        await wait_for(pilot, finished)
        assert text_of(app, "#job-headline") == "The sync of your accounts is finished."
        assert f"{corpus.message_count} copied" in text_of(app, "#job-counters")
        assert f"Folders {len(corpus.messages)}/{len(corpus.messages)}" in text_of(
            app, "#job-counters")
        assert progress is app.screen

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)
        await pilot.press(*src_user, "enter")
        await wait_for(pilot, lambda: text_of(app, "#job-headline") != "")
        assert text_of(app, "#job-headline") == "The sync of your accounts is finished."
        del connect
    assert_identical(corpus, dovecot_dst, unique_user)
    (job,) = JobStore(db).jobs()
    assert job.state is JobState.FINISHED


async def test_wrong_password_then_corrected(
    tmp_path: Path, dovecot_src: DovecotServer, unique_user: str
) -> None:
    """A wrong password shows the engine's error and the way back; corrected, it passes."""
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        await type_settings(pilot, dovecot_src, unique_user, "Zz9-not-it")
        await test_connection(pilot)
        assert text_of(app, "#step-2") == "2. The connection failed:"
        error = text_of(app, "#error")
        assert f"source account {unique_user}" in error and "refused the login" in error
        assert "Zz9-not-it" not in error
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#password").focus()
        await pilot.press("end", "ctrl+u", *dovecot_src.password)
        await test_connection(pilot)
        assert text_of(app, "#step-2").endswith("has been established.")


async def test_fields_are_checked_before_connecting(tmp_path: Path) -> None:
    """Empty login, a port that is not a number, a host with spaces: messages beside the
    fields, and no connection test starts."""
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        await pilot.press("tab", *"pw", "tab", *"bad host", "tab", "end", "ctrl+u",
                          *"99x", "ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert "full address or the login" in text_of(app, "#login-error")
        assert text_of(app, "#host-error") == (
            "This server name contains spaces; type the bare name, e.g. imap.example.org."
        )
        assert text_of(app, "#port-error") == (
            "This port is not a number; usually 993 (TLS) or 143 (STARTTLS)."
        )
        assert text_of(app, "#password-error") == ""


async def test_second_sync_is_refused_with_the_guides_words(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """Sync for an account with a running job: general message, then the precise reason;
    no second job."""
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    src = account(dovecot_src, unique_user)
    dst = account(dovecot_dst, unique_user, "destination")
    running = store.create_job(src, dst)
    store.start(running.id)  # this process is its live runner
    assert await sync_refusal(db, src, dst) == (
        "An error occurred while starting the synchronisation. "
        f"A sync task for this account already exists (job {running.id}, running)."
    )
    assert [j.id for j in store.jobs()] == [running.id]


async def sync_refusal(db: Path, src: Account, dst: Account) -> str:
    """What the Sync screen says when Sync is refused (it stays on that screen)."""
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(SyncScreen(app.store, src, dst))
        await pilot.pause()
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, SyncScreen)
        return text_of(app, "#sync-error")


async def test_a_sync_into_the_source_itself_is_refused_with_the_guides_words(
    tmp_path: Path,
) -> None:
    """The destination is the source account (its login in another case): Sync shows the
    general message, then why; no job is created (and no connection is needed to know)."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    src = Account(host="imap.example.org", login="alice@example.org", password="pw")
    dst = Account(host="IMAP.example.org", login="Alice@example.org", password="pw",
                  role="destination")
    assert await sync_refusal(tmp_path / "jobs.sqlite3", src, dst) == (
        "An error occurred while starting the synchronisation. The source and the "
        "destination are the same account (alice@example.org on imap.example.org:993): "
        "a copy would write into the source; check the destination's login and server."
    )
    assert store.jobs() == []


def slowly(
    source_proxy: FaultProxy, source: DovecotServer, src_user: str,
    destination: DovecotServer, dst_user: str,
) -> tuple[Account, Account]:
    """The accounts of a copy whose source answers slowly (still under way seconds later)."""
    source_proxy.delay = 0.05
    return (account(source, src_user, port=source_proxy.port),
            account(destination, dst_user, "destination"))


async def press_sync(pilot: Pilot[int], src: Account, dst: Account) -> None:
    """The Sync screen for these accounts, Sync pressed: the copy's progress screen."""
    app = pilot.app
    assert isinstance(app, ImapCopyApp) and app.store is not None
    app.push_screen(SyncScreen(app.store, src, dst))
    await pilot.pause()
    await pilot.press("ctrl+y")
    await arrive(pilot, ProgressScreen)


async def test_job_survives_the_app_exiting(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Quit the app in the middle of the copy: the detached runner finishes it alone."""
    src_user, corpus = corpus_source
    db = tmp_path / "jobs.sqlite3"
    # The source answers slowly, so the copy is still under way when the app quits.
    src, dst = slowly(source_proxy, dovecot_src, src_user, dovecot_dst, unique_user)
    launched = record_launches(monkeypatch)
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        await press_sync(pilot, src, dst)
        (runner,) = launched
        (job,) = JobStore(db).jobs()
        total = sum(len(messages) for messages in corpus.messages.values())
        assert job.state.active and job.messages_copied < total, job
        await pilot.press("ctrl+q")
    assert runner.poll() is None  # not killed with the app: still copying
    store = JobStore(db)
    deadline = time.monotonic() + 120
    while store.jobs()[0].state.active and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    (job,) = store.jobs()
    assert job.state is JobState.FINISHED, job.failure
    assert_identical(corpus, dovecot_dst, unique_user)


async def test_stop_in_the_app_interrupts_the_copy_and_the_same_sync_resumes_it(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stop (ctrl+x, in the footer while the copy runs): the detached runner ends, the
    task reads interrupted, Stop leaves the footer; the same sync then finishes it, every
    message exactly once.  The source stalls a body fetch, so the copy is surely still
    under way when Stop is pressed (a slow source alone could let it finish first)."""
    src_user, corpus = corpus_source
    db = tmp_path / "jobs.sqlite3"
    source_proxy.add(Fault(rb"^UID FETCH .*BODY\.PEEK\[\]", Action.STALL, skip=1))
    src = account(dovecot_src, src_user, port=source_proxy.port)
    dst = account(dovecot_dst, unique_user, "destination")
    launched = record_launches(monkeypatch)
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        await press_sync(pilot, src, dst)
        await wait_for(pilot, lambda: bool(source_proxy.events["STALL"]))
        await wait_for(pilot, lambda: "^x Stop" in footer_text(app))
        await pilot.press("ctrl+x")
        (runner,) = launched
        await wait_for(pilot, lambda: runner.poll() is not None)
        (job,) = JobStore(db).jobs()
        assert job.state is JobState.INTERRUPTED, job  # (even if it had copied everything)
        await wait_for(pilot, lambda: "Stop" not in footer_text(app))
    source_proxy.clear()
    outcome = sync(JobStore(db), src, dst)
    assert (outcome.job_id, outcome.state) == (job.id, JobState.FINISHED)  # resumed
    assert_identical(corpus, dovecot_dst, unique_user)


async def test_malformed_user_files_are_reported_and_the_app_starts(tmp_path: Path) -> None:
    """A broken user presets file and settings file: a notice naming file, line and key;
    the shipped presets are still offered."""
    presets = tmp_path / "presets.toml"
    presets.write_text('[mine]\nname = "Mine"\nhost = "imap.mine.example"\nport = 993\n'
                       'security = "tls"\nprot = 1\n')
    settings = tmp_path / "settings.toml"
    settings.write_text("[source\n")
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3", presets_file=presets,
                      settings_file=settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        notices = [str(n.message) for n in app._notifications]
        assert any(str(presets) in n and "line 6" in n and "prot" in n for n in notices)
        assert any(str(settings) in n and "line 1" in n for n in notices)
        screen = app.screen
        assert isinstance(screen, ServiceScreen)
        assert [p.key for p in screen.presets][-1] == "other"
        assert "gmail" in [p.key for p in screen.presets]


async def test_enter_right_after_typing_chooses_what_was_typed(tmp_path: Path) -> None:
    """Enter handled before the filter's Changed event (fast typing, a paste) still picks
    from the typed filter, not from the list one key behind."""
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ServiceScreen)
        from textual.widgets import Input

        screen.query_one("#filter", Input).value = "other"
        screen.action_choose()  # in the same tick: no Changed event handled yet
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen) and app.screen.preset.key == "other"


async def test_sync_respects_the_providers_connection_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gmail allows about 15 connections per account; a preset's limit reaches the job the
    Sync button starts as a limit on the engine's choice, not as a count."""
    from imapcopy_tui.engine.account import Account

    started: list[tuple[int | None, int | None]] = []

    def fake_launch(store: object, job_id: int, src: object, dst: object,
                    options: object) -> subprocess.Popen[bytes]:
        started.append((options.connections, options.connection_limit))  # type: ignore[attr-defined]
        return subprocess.Popen(["true"])

    monkeypatch.setattr(sync_screen, "launch_detached", fake_launch)
    src = Account(host="imap.a.example", login="a", password="x")
    dst = Account(host="imap.b.example", login="b", password="y", role="destination")
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(SyncScreen(app.store, src, dst, connection_limit=2))
        await pilot.pause()
        await pilot.press("ctrl+y")
        await pilot.pause()
    assert started == [(None, 2)]
