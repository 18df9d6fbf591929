"""The Sync screen's plan is made in a thread that logs in to both servers; leaving the
screen stops it, instead of leaving it to wait for a silent server until the timeout."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.progress import CopyResult
from imapcopy_tui.errors import CopyCancelled
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.sync import SyncScreen, preview_copy

SIZE = (80, 24)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections the kernel accepts and nobody greets: a client waits for
    the greeting until its connect timeout (20 s by default)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


async def test_leaving_the_sync_screen_stops_its_plan(tmp_path: Path, silent_port: int) -> None:
    """Escape while the plan waits for a greeting: the plan ends (cancelled) at once; the
    connection attempts themselves end at their timeout (see make_interruptibly)."""
    ended: list[float] = []
    outcome: list[BaseException | CopyResult] = []

    def watched(src: Account, dst: Account, cancel: threading.Event) -> CopyResult:
        try:
            result = preview_copy(src, dst, cancel)
            outcome.append(result)
            return result
        except BaseException as exc:
            outcome.append(exc)
            raise
        finally:
            ended.append(time.monotonic())

    src = Account(host="127.0.0.1", port=silent_port, login="a", password="x",
                  security=Security.PLAIN)  # fmt: skip
    dst = Account(host="127.0.0.1", port=silent_port, login="b", password="y",
                  security=Security.PLAIN, role="destination")  # fmt: skip
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(SyncScreen(app.store, src, dst, preview=watched))
        await pilot.pause(0.5)
        assert isinstance(app.screen, SyncScreen) and not ended  # waiting for a greeting
        await pilot.press("escape")
        left = time.monotonic()
        assert not isinstance(app.screen, SyncScreen)
        deadline = left + 5.0
        while not ended and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    assert ended, "the plan was still waiting for the server 5 s after the screen went"
    assert ended[0] - left < 2.0
    assert isinstance(outcome[0], CopyCancelled)
