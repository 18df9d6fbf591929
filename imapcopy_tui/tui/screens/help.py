"""The help screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

HELP = """\
[b]imapcopy[/b] copies every message of a mailbox (the source) into
another one (the destination), folder by folder, with flags and dates.
Nothing is deleted or changed on either side; mail already on the
destination is not copied twice.

[b]Steps[/b]
  1. choose the source service, type its settings, test the connection;
  2. the same for the destination;
  3. check the plan (where each folder goes: Sent into the destination's
     Sent folder, Gmail's views skipped...), choose whether to send the
     report and to compress (automatic: only over a slow link), then
     Sync. The copy runs on its own: you may close the app or the SSH
     session. At the end a report arrives in the destination inbox.

[b]Keys[/b]
  Tab / Shift+Tab   next / previous field      Enter     confirm
  Escape            back                        ctrl+q    quit
  ctrl+s            status of a sync            ctrl+o    all sync tasks
  ctrl+t            test (settings screen)      ctrl+y    sync (last step)
  ctrl+x            stop a running copy (its progress screen; the
                    same sync resumes it)
  F1                this help                   F2        light/dark

Your own providers: ~/.config/imapcopy/presets.toml (same format as
the shipped presets.toml). Passwords and OAuth2 tokens are never saved.

Press Escape to close."""


class HelpScreen(ModalScreen[None]):
    """The keys and steps, over the screen it was opened from; Escape or F1 closes it."""

    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP)
        # A footer of its own: the one of the screen beneath would offer that screen's
        # keys ("esc New copy"), which this screen takes for itself.
        yield Footer()
