"""Make an SVG of every screen of the real app into this folder.

    python screenshots/make.py

The scenarios are those of the snapshot tests (tests/snapshots), at 80x24.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from scenarios import SCENARIOS, SIZE, Scenario, fake_connection_test, make_app, steady_cursor  # noqa: E402


async def shoot(scenario: Scenario, workdir: Path) -> Path:
    app = make_app(workdir)
    patch = (nullcontext() if scenario.connection_fails is None
             else fake_connection_test(scenario.connection_fails))
    with patch, steady_cursor():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            if scenario.before:
                await scenario.before(pilot)
            await pilot.press(*scenario.press)
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            return Path(app.save_screenshot(f"{scenario.name}.svg", str(HERE)))


def main() -> None:
    for scenario in SCENARIOS:
        with tempfile.TemporaryDirectory() as workdir:
            print(asyncio.run(shoot(scenario, Path(workdir))).relative_to(HERE.parent))


if __name__ == "__main__":
    main()
