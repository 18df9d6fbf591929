"""Tab on the settings screen goes from field to field and button to button: never to the
scrolling page around them, a stop where nothing on screen shows the focus."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.containers import VerticalScroll

from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.settings import SettingsScreen
from tests.tui.test_flow import SIZE, wait_for


@pytest.mark.parametrize("preset", ["gmail", "other"])
async def test_tab_never_stops_on_the_page(tmp_path: Path, preset: str) -> None:
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        screen = SettingsScreen("source", app.catalogue.get(preset), None)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.pause()
        stops = []
        for _ in range(24):  # round the whole chain (about ten stops) twice
            await pilot.press("tab")
            await pilot.pause()
            stops.append(app.focused)
        assert stops and all(s is not None for s in stops)
        assert not any(isinstance(s, VerticalScroll) for s in stops), [
            type(s).__name__ for s in stops
        ]
