"""Keys that arrive in one burst, as a password manager's auto-type or a fast typist over
SSH sends them ("login<Tab>password<Tab>server"): each field gets its own text.

The burst is posted to the app at once, without waiting for the app between keys (the
pilot's ``press`` waits, which hid the race): before Tab was taken by the app itself, the
text after a Tab landed in the field the Tab was leaving, the password shown in clear in
the login field.
"""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input

from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.settings import SettingsScreen
from tests.tui.test_flow import SIZE, choose_other


def burst(app: ImapCopyApp, text: str) -> None:
    """Post every key of ``text`` (a tab as Tab, a form feed as Shift+Tab) at once."""
    for char in text:
        if char == "\t":
            app.post_message(events.Key("tab", None))
        elif char == "\f":
            app.post_message(events.Key("shift+tab", None))
        else:
            app.post_message(events.Key(char, char))


async def test_a_burst_of_keys_fills_each_field_with_its_own_text(tmp_path: Path) -> None:
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        assert isinstance(app.screen, SettingsScreen)
        assert app.focused is app.screen.query_one("#login", Input)
        burst(app, "alice@example.org\ts3cret-pw\timap.example.org\f\f")
        await pilot.pause(0.3)
        values = {w.id: w.value for w in app.screen.query(Input) if w.id}
        assert values["login"] == "alice@example.org"
        assert values["password"] == "s3cret-pw"
        assert values["host"] == "imap.example.org"
        assert app.focused is app.screen.query_one("#login", Input)  # back twice
