"""The app's task list and a task's screen: a task that a later task of the same accounts
took over names it, instead of advising to start the sync again."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from imapcopy_tui.storage.store import JobState, JobStore
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.jobs import JobsScreen
from imapcopy_tui.tui.screens.progress import ProgressScreen
from tests.tui.test_flow import SIZE, arrive, text_of
from tests.unit.test_status_successor import ended, interrupted_dry_run


async def test_the_task_list_and_the_task_name_the_task_that_took_over(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    first = interrupted_dry_run(store)
    later = ended(store, JobState.FINISHED)
    app = ImapCopyApp(db_path=db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await arrive(pilot, JobsScreen)
        table = app.screen.query_one(DataTable)
        assert [table.get_row_at(n)[:2] for n in range(table.row_count)] == [
            [str(later.id), "finished"],
            [str(first.id), f"interrupted → #{later.id}"],
        ]
        await pilot.press("down", "enter")
        await arrive(pilot, ProgressScreen)
        assert text_of(app, "#job-headline") == (
            f"The sync was interrupted before the end; job {later.id} took it over (finished)."
        )
