"""The engine, storage, config and command line never import Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "imapcopy_tui.engine.copier",
        "imapcopy_tui.engine.session",
        "imapcopy_tui.storage.store",
        "imapcopy_tui.storage.recorder",
        "imapcopy_tui.config.presets",
        "imapcopy_tui.runner",
        "imapcopy_tui.cli",
    ],
)
def test_module_does_not_import_textual(module: str) -> None:
    """Importing the module (in a fresh interpreter) leaves textual out of sys.modules."""
    code = f"import sys, {module}; print('textual' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


GATEWAY = {("engine", name) for name in ("session.py", "answers.py", "wire.py")}


def test_only_the_engine_imports_imapclient() -> None:
    """Storage, config, the CLI and the app reach IMAP only through the engine's gateway
    (session.py, with answers.py translating its errors and wire.py, its fast FETCH
    reader)."""
    import pathlib

    root = pathlib.Path(__file__).parents[2] / "imapcopy_tui"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "imapclient" in path.read_text(encoding="utf-8")
        and path.relative_to(root).parts[:2] not in GATEWAY
    ]
    assert offenders == []
