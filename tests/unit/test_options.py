"""Copy options as the front ends hand them over."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from imapcopy_tui.cli import _connections
from imapcopy_tui.engine.options import CopyOptions
from imapcopy_tui.engine.session import Compression, Timeouts
from imapcopy_tui.engine.special import GmailViews, MappingRules
from imapcopy_tui.errors import UsageError


def test_copy_options_survive_the_trip_to_the_detached_runner() -> None:
    """Every option reaches the runner as given (the app's connection cap once did not)."""
    chosen = CopyOptions(connection_limit=3)  # the engine chooses, within the limit
    assert CopyOptions.from_dict(json.loads(json.dumps(chosen.to_dict()))) == chosen
    options = CopyOptions(
        send_report=False, include=("A*",), exclude=("Spam",), connections=2,
        max_message_bytes=25_000_000, timeouts=Timeouts(connect=3, read=9),
        folder_rules=MappingRules(special=False, renames=(("Old", "New/Old"),),
                                  gmail_all_mail=GmailViews.INSTEAD),
        compress=Compression.ON,
    )
    assert CopyOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options


def _args(connections: int | None, preset: str | None) -> argparse.Namespace:
    return argparse.Namespace(connections=connections, preset1=preset, preset2=None)


def test_connections_default_within_the_preset_limit_and_explicit_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --connections the engine chooses (None: 4, or 2 on a fast link) within the
    providers' limit; an explicit --connections wins, with a warning when it is above
    the limit."""
    presets = Path(os.environ["XDG_CONFIG_HOME"]) / "imapcopy" / "presets.toml"
    presets.parent.mkdir(parents=True)
    presets.write_text(
        '[tiny]\nname = "Tiny"\nhost = "imap.tiny.example"\nport = 993\n'
        'security = "tls"\nmax_connections = 2\n'
    )
    assert CopyOptions.connections is None and CopyOptions.connection_limit is None
    assert _connections(_args(None, None)) == (None, None)
    assert _connections(_args(None, "gmail")) == (None, 15)
    assert _connections(_args(None, "tiny")) == (None, 2)
    assert capsys.readouterr().err == ""
    assert _connections(_args(3, "tiny")) == (3, 2)
    assert "above the provider's limit of 2" in capsys.readouterr().err
    assert _connections(_args(1, "tiny")) == (1, 2)
    assert capsys.readouterr().err == ""
    with pytest.raises(UsageError, match="at least 1"):
        _connections(_args(0, None))


def test_options_from_a_newer_front_end_are_ignored_not_fatal() -> None:
    data = CopyOptions().to_dict()
    data["future_option"] = 1
    data["timeouts"]["future"] = 2
    data["folder_rules"]["future"] = 3
    assert CopyOptions.from_dict(data) == CopyOptions()
