"""What the screens say in the cases QA found misleading: a resumed task's figures, the
speed of a finished task, a certificate choice on a plain connection, a hint left after
its field was corrected, an empty status lookup."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.progress import FolderCounts
from imapcopy_tui.storage.store import JobState, JobStore
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.connect import ConnectScreen
from imapcopy_tui.tui.screens.jobs import JobsScreen
from imapcopy_tui.tui.screens.progress import ProgressScreen
from imapcopy_tui.tui.screens.settings import SettingsScreen
from imapcopy_tui.tui.screens.status import StatusScreen
from tests.tui.test_flow import SIZE, arrive, choose_other, text_of

SRC = Account(host="imap.a.example", login="alice@a.example", password="pw")
DST = Account(host="imap.b.example", login="alice@b.example", password="pw",
              role="destination")


def resumed_and_finished(db: Path) -> int:
    """A task whose first run copied 76 and whose resume copied the other 124."""
    store = JobStore(db)
    job = store.create_job(SRC, DST)
    store.start(job.id)
    store.save_progress(job.id, [FolderCounts("INBOX", "INBOX", total=200, copied=124,
                                              present=76, done=True)])
    store.end(job.id, JobState.FINISHED)
    return job.id


async def test_the_task_list_counts_what_is_done_and_a_finished_task_shows_no_speed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.sqlite3"
    job_id = resumed_and_finished(db)
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await arrive(pilot, JobsScreen)
        table = app.screen.query_one(DataTable)
        assert [str(c.label) for c in table.columns.values()][-1] == "Done"
        assert table.get_row_at(0)[-1] == "200/200"  # not 124/200: nothing is missing
        await pilot.press("enter")
        await arrive(pilot, ProgressScreen)
        await pilot.pause()
        counters = text_of(app, "#job-counters")
        assert "messages/s" not in counters, counters  # over: no speed to misread
    assert job_id == 1


async def test_status_lookup_without_an_address_asks_for_one(tmp_path: Path) -> None:
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await arrive(pilot, StatusScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert text_of(app, "#not-found") == "Type the source e-mail address (or login) first."


async def test_plain_security_hides_the_certificate_choice_and_ignores_it(
    tmp_path: Path,
) -> None:
    """The box ticked, then Security None: the box goes, and the connection test neither
    skips a check nor warns about a certificate (a plain connection has none)."""
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        box = screen.query_one("#insecure", Checkbox)
        box.value = True
        assert box.display
        screen.query_one("#security", Select).value = "plain"
        await pilot.pause()
        assert not box.display
        for field, value in (("login", "alice"), ("password", "pw"), ("host", "127.0.0.1"),
                             ("port", "1")):
            screen.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+t")
        await arrive(pilot, ConnectScreen)
        connect = app.screen
        assert isinstance(connect, ConnectScreen)
        assert connect.account.verify_certificate
        shown = " ".join(str(w.render()) for w in connect.query(Static))
        assert "certificate is not checked" not in shown


async def test_a_hint_goes_when_its_field_is_corrected(tmp_path: Path) -> None:
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        screen = app.screen
        await pilot.press("ctrl+t")  # everything empty: one hint per field
        await pilot.pause()
        hint = screen.query_one("#login-error", Static)
        assert hint.display and "full address or the login" in str(hint.render())
        screen.query_one("#login", Input).focus()
        await pilot.press(*"bob")
        await pilot.pause()
        assert not hint.display
        assert screen.query_one("#host-error", Static).display  # the others stay


async def test_a_pasted_page_does_not_go_into_a_field(tmp_path: Path) -> None:
    """A 5000-character paste into the login is refused (the field takes 320 characters,
    more than any address), so the form stays quick and no page goes to the server as a
    login; a paste that fits goes in."""
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        login = app.screen.query_one("#login", Input)
        assert app.focused is login
        login.post_message(events.Paste("a" * 5000))
        await pilot.pause()
        assert login.value == ""
        login.post_message(events.Paste("a" * 320))
        await pilot.pause()
        assert login.value == "a" * 320


async def test_a_checkbox_reads_without_colour(tmp_path: Path) -> None:
    """The certificate box: a blank when unticked, an X when ticked (Textual's own showed
    an X in both states, told apart by colour only)."""
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        box = app.screen.query_one("#insecure", Checkbox)
        assert str(box.render()).startswith("▐ ▌")
        box.value = True
        await pilot.pause()
        assert str(box.render()).startswith("▐X▌")
