"""The footer under the F1 help offers the help's own keys, not those of the screen beneath."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Footer

from imapcopy_tui.engine.account import Account
from imapcopy_tui.storage.store import JobStore
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.help import HelpScreen
from imapcopy_tui.tui.screens.progress import ProgressScreen
from tests.tui.test_flow import SIZE, arrive

SRC = Account(host="imap.a.example", login="alice@a.example", password="pw")
DST = Account(host="imap.b.example", login="alice@b.example", password="pw",
              role="destination")


def shown_footer(app: ImapCopyApp) -> list[str]:
    """The keys of the footer the user sees: that of the topmost screen having one (a
    modal screen is drawn over the screens beneath, their footer included)."""
    for screen in reversed(app.screen_stack):
        footers = screen.query(Footer)
        if footers:
            footer = footers.first()
            assert footer.region.y == SIZE[1] - 1, footer.region  # on the last line
            return [str(key.render()).strip() for key in footer.query("FooterKey")
                    if key.display]
    return []


async def test_help_over_the_progress_screen_offers_close_not_new_copy(
    tmp_path: Path,
) -> None:
    """Opened from the progress screen, whose Escape is "New copy", the help's footer
    says what Escape does there: close the help (and it does)."""
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    job = store.create_job(SRC, DST)
    store.start(job.id)
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ProgressScreen(store, job.id))
        await arrive(pilot, ProgressScreen)
        assert "esc New copy" in shown_footer(app)
        await pilot.press("f1")
        await arrive(pilot, HelpScreen)
        assert shown_footer(app) == ["esc Close"]
        await pilot.press("escape")
        await arrive(pilot, ProgressScreen)
        assert "esc New copy" in shown_footer(app)
