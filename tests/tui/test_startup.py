"""The app's start-up with a job database it cannot use: the error, not a crash."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Static

from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.store_error import StoreErrorScreen

SIZE = (80, 24)


async def test_unusable_database_is_shown_and_left_alone(tmp_path: Path) -> None:
    """A database file of random bytes: the app opens on a screen naming the file and what
    to do, status and all-tasks keys do nothing, Escape quits; the file is unchanged."""
    db = tmp_path / "jobs.sqlite3"
    db.write_bytes(os.urandom(4096))
    before = (db.read_bytes(), db.stat().st_mtime_ns, db.stat().st_mode)
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StoreErrorScreen)
        shown = str(app.screen.query_one("#store-error", Static).render())
        assert shown.startswith(f"the job database {db} cannot be used: it is not an SQLite")
        assert "IMAPCOPY_DB" in shown
        await pilot.press("ctrl+s", "ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, StoreErrorScreen)
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 0
    assert (db.read_bytes(), db.stat().st_mtime_ns, db.stat().st_mode) == before
