"""The settings of one account, checked before anything connects."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
)

from imapcopy_tui.config.presets import Preset
from imapcopy_tui.config.settings import RememberedAccount
from imapcopy_tui.engine.account import (
    Account,
    Security,
    bare_host,
    check_host,
    check_port,
    host_problem,
    port_problem,
)
from imapcopy_tui.tui.messages import SettingsEntered
from imapcopy_tui.tui.widgets import show_message

SECURITY_CHOICES = [
    ("TLS (encrypted, usually port 993)", Security.TLS.value),
    ("STARTTLS (encrypted, usually port 143)", Security.STARTTLS.value),
    ("None - UNSAFE: password sent in clear", Security.PLAIN.value),
]
FIELDS = ("login", "password", "host", "port")


def check_fields(login: str, password: str, host: str, port: str) -> dict[str, str]:
    """Problems with the form, by field, in the user's words (empty when all is well)."""
    problems: dict[str, str] = {}
    if not login.strip():
        problems["login"] = "Type the full address or the login (the part before @)."
    if not password:
        problems["password"] = "Type the password of this mailbox."
    # The command line's checks (engine.account), in the form's words.
    if not host.strip():
        problems["host"] = "Type the IMAP server, e.g. imap.example.com."
    elif problem := host_problem(bare_host(host)):
        problems["host"] = f"This server name {problem}."
    if problem := port_problem(port):
        problems["port"] = f"This port {problem}; usually 993 (TLS) or 143 (STARTTLS)."
    return problems


class SettingsScreen(Screen[None]):
    """Service, login, password, server, port and security, prefilled from the preset."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+t", "submit", "Test connection", show=True, priority=True),
    ]

    def __init__(self, side: str, preset: Preset, remembered: RememberedAccount | None) -> None:
        super().__init__(name=f"settings-{side}")
        self.side = side
        self.preset = preset
        same_service = remembered is not None and remembered.preset == preset.key
        self.remembered = remembered if same_service else None

    def compose(self) -> ComposeResult:
        preset, memory = self.preset, self.remembered
        host = (memory.host if memory else "") or preset.host
        port = memory.port if memory else preset.port
        security = memory.security if memory else preset.security
        yield Header()
        with VerticalScroll(classes="page form"):
            # A user's preset name and note are text, never markup.
            yield Static(f"{self.side.capitalize()} mailbox - service: {preset.name}",
                         classes="title", markup=False)
            if preset.note:
                yield Static(preset.note, classes="note", markup=False)
            for field, label, value, placeholder, password in (
                ("login", "Login", memory.login if memory else "", "alice@example.com", False),
                ("password", "Password", "", "", True),
                ("host", "IMAP server", host, "imap.example.com", False),
                ("port", "Port", str(port), "993", False),
            ):
                with Horizontal(classes="field"):
                    yield Label(label, classes="field-label")
                    yield Input(value=value, placeholder=placeholder, password=password,
                                id=field, compact=True)
                yield Static("", id=f"{field}-error", classes="field-error")
            with Horizontal(classes="field"):
                yield Label("Security", classes="field-label")
                yield Select(SECURITY_CHOICES, value=security, allow_blank=False, id="security",
                             compact=True)
            yield Static("", id="security-warning", classes="field-error")
            yield Checkbox("Do not check the server's certificate (unsafe)",
                           value=bool(memory and not memory.verify_certificate), id="insecure",
                           compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Test connection", variant="primary", id="test")
                yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        for message_line in self.query(".field-error").results(Static):
            message_line.display = False
        first_empty = "#password" if self.query_one("#login", Input).value else "#login"
        self.query_one(first_empty, Input).focus()
        self._security_warning()

    def _security_warning(self) -> None:
        value = self.query_one("#security", Select).value
        show_message(
            self.query_one("#security-warning", Static),
            "Without encryption anyone on the network can read your password and mail."
            if value == Security.PLAIN.value else "",
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        self._security_warning()
        # Follow the usual port when the user switches security and kept the default.
        port = self.query_one("#port", Input)
        chosen = str(event.value)
        if port.value in ("993", "143") and chosen in {s.value for s in Security}:
            port.value = str(Security(chosen).default_port)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next empty field, and tests once the form is complete."""
        event.stop()
        for field in FIELDS:
            widget = self.query_one(f"#{field}", Input)
            if not widget.value:
                widget.focus()
                return
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "test":
            self.action_submit()
        else:
            self.action_back()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_submit(self) -> None:
        values = {field: self.query_one(f"#{field}", Input).value for field in FIELDS}
        problems = check_fields(**values)
        for field in FIELDS:
            show_message(self.query_one(f"#{field}-error", Static), problems.get(field, ""))
        if problems:
            self.query_one(f"#{next(iter(problems))}", Input).focus()
            return
        account = Account(
            host=check_host(values["host"], self.side),
            port=check_port(values["port"], self.side),
            login=values["login"].strip(),
            password=values["password"],
            security=Security(str(self.query_one("#security", Select).value)),
            verify_certificate=not self.query_one("#insecure", Checkbox).value,
            role=self.side,
        )
        self.post_message(SettingsEntered(self.side, self.preset, account))
