"""Choose the provider of one side, from the presets, filtered by typing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from imapcopy_tui.config.presets import Preset, PresetCatalogue
from imapcopy_tui.tui.messages import ServiceChosen

TITLES = {
    "source": "Step 1 of 3 - the mailbox to copy FROM (source)",
    "destination": "Step 2 of 3 - the mailbox to copy INTO (destination)",
}


class ServiceScreen(Screen[None]):
    """The guide's "choice of services": the presets of one side, Other last."""

    BINDINGS = [
        Binding("enter", "choose", "Choose", show=True, priority=True),
        Binding("down", "cursor_down", "Next", show=False, priority=True),
        Binding("up", "cursor_up", "Previous", show=False, priority=True),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, side: str, catalogue: PresetCatalogue) -> None:
        super().__init__(name=f"service-{side}")
        self.side = side
        self.presets = catalogue.for_role(side)
        self._shown_filter = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="page"):
            yield Static(TITLES[self.side], classes="title")
            yield Static("Choose your e-mail service. Type to filter; pick Other if it is not "
                         "listed.", classes="hint")
            yield Input(placeholder="Type to filter, e.g. gmail", id="filter")
            yield OptionList(id="services")
            yield Static("", id="note", classes="note", markup=False)
            yield Static("", id="active-jobs", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#filter", Input).focus()

    def _matching(self, text: str) -> list[Preset]:
        words = text.lower().split()
        return [
            p for p in self.presets
            if all(w in f"{p.name} {p.key} {p.host}".lower() for w in words)
        ]

    def _fill(self, text: str) -> None:
        self._shown_filter = text
        options = self.query_one("#services", OptionList)
        options.clear_options()
        for preset in self._matching(text):
            host = preset.host or "server to type"
            # Content, not markup: a user's preset may be called "Lab [EU]".
            options.add_option(Option(Content.assemble(preset.name, "  ", (host, "dim")),
                                      id=preset.key))
        if options.option_count:
            options.highlighted = 0
        self._show_note()

    def _show_note(self) -> None:
        preset = self.highlighted_preset()
        self.query_one("#note", Static).update(preset.note if preset and preset.note else "")

    def highlighted_preset(self) -> Preset | None:
        options = self.query_one("#services", OptionList)
        if options.highlighted is None or not options.option_count:
            return None
        key = options.get_option_at_index(options.highlighted).id
        return next((p for p in self.presets if p.key == key), None)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_note()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose()

    def action_cursor_down(self) -> None:
        self.query_one("#services", OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#services", OptionList).action_cursor_up()

    def action_choose(self) -> None:
        # Enter can arrive before the filter's Changed event (fast typing, a paste): choose
        # from what the filter says now, not from a list that is one key behind.
        typed = self.query_one("#filter", Input).value
        if typed != self._shown_filter:
            self._fill(typed)
        preset = self.highlighted_preset()
        if preset is None:
            self.notify("No service matches: clear the filter or choose Other.",
                        severity="warning")
            return
        self.post_message(ServiceChosen(self.side, preset))

    def action_back(self) -> None:
        if self.side == "destination":
            self.app.pop_screen()
            return
        # The first screen has nowhere to go back to: Escape clears the filter.
        self.query_one("#filter", Input).value = ""
