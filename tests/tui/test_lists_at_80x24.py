"""The drop-down lists near the buttons at 80x24: the open list may cover the buttons, as a
drop-down does, but every choice is reachable by keyboard, a choice closes the list, and the
buttons are then uncovered and reachable with Tab."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import Button, Select

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.progress import CopyResult
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.settings import SettingsScreen
from imapcopy_tui.tui.screens.sync import SyncScreen
from tests.tui.test_flow import SIZE, wait_for

SRC = Account(host="imap.a.example", login="alice@a.example", password="pw")
DST = Account(host="imap.b.example", login="alice@b.example", password="pw",
              role="destination")

Make = Callable[[ImapCopyApp], Screen[Any]]


def sync_screen(app: ImapCopyApp) -> Screen[Any]:
    """Step 3, whose compression list opens over the Back button."""
    assert app.store is not None
    return SyncScreen(app.store, SRC, DST, preview=lambda *_: CopyResult())


def gmail_settings(app: ImapCopyApp) -> Screen[Any]:
    """Gmail's settings (a two-line note): the sign-in list opens over the buttons."""
    return SettingsScreen("source", app.catalogue.get("gmail"), None)


CASES: list[tuple[str, Make, str, list[str]]] = [
    ("sync-compression", sync_screen, "compress", ["auto", "on", "off"]),
    ("settings-sign-in", gmail_settings, "sign-in", ["password", "token_file", "token_command"]),
]


@pytest.mark.parametrize(("make", "select_id", "values"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_every_choice_and_both_buttons_stay_reachable(
    tmp_path: Path, make: Make, select_id: str, values: list[str]
) -> None:
    """Open, the list covers a button yet shows every choice above the footer; Escape
    closes it, not the screen; each choice is made with the keyboard and closes the list;
    closed, the buttons are on screen and Tab reaches both."""
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        screen = make(app)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.pause()
        select = screen.query_one(f"#{select_id}", Select)
        buttons = list(screen.query(Button))
        select.focus()
        await pilot.press("enter")
        await pilot.pause()
        overlay = select.query_one("SelectOverlay")
        assert select.expanded
        # What QA saw: the open list lies over (some of) the buttons.
        assert any(overlay.region.overlaps(b.region) for b in buttons)
        assert overlay.region.bottom <= SIZE[1] - 1  # above the footer: all of it seen
        assert overlay.max_scroll_y == 0  # every choice shown at once
        await pilot.press("escape")  # closes the list, not the screen
        await pilot.pause()
        assert not select.expanded and app.screen is screen
        chosen = []
        for downs in range(len(values)):
            await pilot.press("enter", "home", *["down"] * downs, "enter")
            await pilot.pause()
            assert not select.expanded  # a choice closes the list
            chosen.append(select.value)
        assert chosen == values
        assert not overlay.display  # the list is gone, nothing left over the buttons
        for button in buttons:
            assert button.region.bottom <= SIZE[1] - 1, button  # on screen, over the footer
        reached = []
        for _ in range(4):
            await pilot.press("tab")
            reached.append(app.focused)
        assert all(b in reached for b in buttons), reached
