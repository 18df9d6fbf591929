"""What the app shows instead of the flow when the job database cannot be used."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class StoreErrorScreen(Screen[None]):
    """The error, naming the file and what to do; the file is left as it is."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.quit", "Quit")]

    def __init__(self, message: str) -> None:
        super().__init__(name="store-error")
        self.message = message

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="page"):
            yield Static("The sync tasks cannot be opened", classes="title")
            yield Static(self.message, id="store-error", markup=False)
            yield Static("Nothing was changed in that file. Press Escape to quit.",
                         classes="note")
        yield Footer()
