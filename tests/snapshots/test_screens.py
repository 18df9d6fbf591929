"""Snapshots of every screen at 80x24 (pytest-textual-snapshot).

The scenarios live in screenshots/scenarios.py so the pictures in the README show exactly
what these tests pin.  After a deliberate change: review snapshot_report.html, then run
``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "screenshots"))

from scenarios import SCENARIOS, SIZE, Scenario, fake_connection_test, make_app, steady_cursor  # noqa: E402


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_screen(scenario: Scenario, snap_compare: Any, tmp_path: Path) -> None:
    """The screen looks as reviewed."""
    patch = (nullcontext() if scenario.connection_fails is None
             else fake_connection_test(scenario.connection_fails))

    async def before(pilot: Any) -> None:
        if scenario.before:
            await scenario.before(pilot)

    with patch, steady_cursor():
        assert snap_compare(make_app(tmp_path), press=scenario.press, run_before=before,
                            terminal_size=SIZE)
