"""Copy options as the front ends hand them over."""

from __future__ import annotations

import json

from imapcopy_tui.engine.options import CopyOptions
from imapcopy_tui.engine.session import Timeouts
from imapcopy_tui.engine.special import GmailViews, MappingRules


def test_copy_options_survive_the_trip_to_the_detached_runner() -> None:
    """Every option reaches the runner as given (the app's connection cap once did not)."""
    options = CopyOptions(
        send_report=False, include=("A*",), exclude=("Spam",), connections=2,
        max_message_bytes=25_000_000, timeouts=Timeouts(connect=3, read=9),
        folder_rules=MappingRules(special=False, renames=(("Old", "New/Old"),),
                                  gmail_all_mail=GmailViews.INSTEAD),
    )
    assert CopyOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options
