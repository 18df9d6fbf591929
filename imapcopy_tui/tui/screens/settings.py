"""The settings of one account, checked before anything connects.

Sign-in is a password, or an OAuth2 access token from a file or printed by a command (the
app never sees the token: the engine fetches it at each connection).  The choice sits
below Security, with the preset's usual way preselected, so Tab and Enter go through
login, password (or token file or command), server and port as before.
"""

from __future__ import annotations

import os

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
    MAX_LOGIN,
    Account,
    AuthMethod,
    Security,
    bare_host,
    check_host,
    check_port,
    host_problem,
    port_problem,
)
from imapcopy_tui.tui.messages import SettingsEntered
from imapcopy_tui.tui.widgets import show_message
from imapcopy_tui.tui.widgets.tickbox import Tickbox

SECURITY_CHOICES = [
    ("TLS (encrypted, usually port 993)", Security.TLS.value),
    ("STARTTLS (encrypted, usually port 143)", Security.STARTTLS.value),
    ("None - UNSAFE: password sent in clear", Security.PLAIN.value),
]
PASSWORD, TOKEN_FILE, TOKEN_COMMAND = "password", "token_file", "token_command"
TOKEN_FIELD = {
    # sign-in: (label, placeholder, what to type when it is empty)
    TOKEN_FILE: ("Token file", "~/token.txt (its first line: the access token)",
                 "Type the path of the file whose first line is the OAuth2 access token."),
    TOKEN_COMMAND: ("Token command", "a command printing the access token",
                    "Type the command that prints the OAuth2 access token."),
}
FIELDS = ("login", "password", "host", "port")


def sign_in_choices(preset: Preset) -> list[tuple[str, str]]:
    """The sign-in list, in the preset's words ("App password" where it takes those)."""
    password = "App password" if preset.auth[0] == "app_password" else "Password"
    return [(password, PASSWORD), ("OAuth2 token file", TOKEN_FILE),
            ("OAuth2 token command", TOKEN_COMMAND)]


def check_fields(
    login: str, password: str, host: str, port: str, sign_in: str = PASSWORD, token: str = "",
    cafile: str = "",
) -> dict[str, str]:
    """Problems with the form, by field, in the user's words (empty when all is well).

    ``token`` is the token file or command when ``sign_in`` is not the password;
    ``cafile`` the optional CA certificate of a server whose certificate a private
    authority signed."""
    problems: dict[str, str] = {}
    if not login.strip():
        problems["login"] = "Type the full address or the login (the part before @)."
    if sign_in == PASSWORD and not password:
        problems["password"] = "Type the password of this mailbox."
    elif sign_in in TOKEN_FIELD and not token.strip():
        problems["token"] = TOKEN_FIELD[sign_in][2]
    elif sign_in == TOKEN_FILE and not os.path.isfile(os.path.expanduser(token.strip())):
        problems["token"] = "There is no such file; type the path of the token file."
    # The command line's checks (engine.account), in the form's words.
    if not host.strip():
        problems["host"] = "Type the IMAP server, e.g. imap.example.com."
    elif problem := host_problem(bare_host(host)):
        problems["host"] = f"This server name {problem}."
    if problem := port_problem(port):
        problems["port"] = f"This port {problem}; usually 993 (TLS) or 143 (STARTTLS)."
    if cafile.strip() and not os.path.isfile(os.path.expanduser(cafile.strip())):
        problems["cafile"] = (
            "There is no such file; type the path of the CA certificate (PEM), or leave "
            "this empty."
        )
    return problems


# Longer than any real value (a login is an address, a host a DNS name); a paste of a
# page would otherwise make every keystroke redraw it and reach the server as a login.
MAX_LENGTHS = {
    "login": MAX_LOGIN, "password": 1024, "token": 4096, "host": 253, "port": 5, "cafile": 4096,
}


class SettingsScreen(Screen[None]):
    """Service, login, password or token source, server, port, security and sign-in,
    prefilled from the preset (and what was typed last time for it)."""

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
        self._hinted: dict[str, str] = {}  # field -> the text its shown hint is about

    def compose(self) -> ComposeResult:
        preset, memory = self.preset, self.remembered
        host = (memory.host if memory else "") or preset.host
        port = memory.port if memory else preset.port
        security = memory.security if memory else preset.security
        sign_in = memory.sign_in if memory else (
            TOKEN_COMMAND if preset.auth[0] == "oauth2" else PASSWORD)
        choices = sign_in_choices(preset)
        yield Header()
        # Not a Tab stop of its own: the focused field is scrolled into view anyway, and
        # a focused page shows nothing on screen.
        with VerticalScroll(classes="page form", can_focus=False):
            # A user's preset name and note are text, never markup.
            yield Static(f"{self.side.capitalize()} mailbox - service: {preset.name}",
                         classes="title", markup=False)
            if preset.note:
                yield Static(preset.note, classes="note", markup=False)
            token_label, token_hint = TOKEN_FIELD.get(sign_in, TOKEN_FIELD[TOKEN_COMMAND])[:2]
            for field, label, value, placeholder, password in (
                ("login", "Login", memory.login if memory else "", "alice@example.com", False),
                ("password", choices[0][0], "", "", True),
                ("token", token_label, memory.token_source if memory else "", token_hint,
                 False),
                ("host", "IMAP server", host, "imap.example.com", False),
                ("port", "Port", str(port), "993", False),
            ):
                with Horizontal(classes="field", id=f"{field}-row"):
                    yield Label(label, classes="field-label", id=f"{field}-label")
                    yield Input(value=value, placeholder=placeholder, password=password,
                                id=field, compact=True, max_length=MAX_LENGTHS[field])
                yield Static("", id=f"{field}-error", classes="field-error")
            with Horizontal(classes="field"):
                yield Label("Security", classes="field-label")
                yield Select(SECURITY_CHOICES, value=security, allow_blank=False, id="security",
                             compact=True)
            yield Static("", id="security-warning", classes="field-error")
            # A server with its own authority (self-hosted, a company CA): checked with it.
            with Horizontal(classes="field", id="cafile-row"):
                yield Label("CA file", classes="field-label")
                yield Input(value=memory.ca_file if memory else "",
                            placeholder="optional: the CA certificate (PEM) of a private server",
                            id="cafile", compact=True, max_length=MAX_LENGTHS["cafile"])
            yield Static("", id="cafile-error", classes="field-error")
            with Horizontal(classes="field", id="sign-in-row"):
                yield Label("Sign in with", classes="field-label")
                yield Select(choices, value=sign_in, allow_blank=False, id="sign-in",
                             compact=True)
            yield Static("", id="sign-in-warning", classes="field-error", markup=False)
            yield Tickbox("Do not check the server's certificate (unsafe)",
                           value=bool(memory and not memory.verify_certificate), id="insecure",
                           compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Test connection", variant="primary", id="test")
                yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        for message_line in self.query(".field-error").results(Static):
            message_line.display = False
        self._show_sign_in()
        self._security_warning()
        secret = "#password" if self._sign_in == PASSWORD else "#token"
        first_empty = secret if self.query_one("#login", Input).value else "#login"
        self.query_one(first_empty, Input).focus()
        self._security_warning()

    @property
    def _sign_in(self) -> str:
        return str(self.query_one("#sign-in", Select).value)

    @property
    def _fields(self) -> tuple[str, ...]:
        """The text fields in use, in order: the password's place holds the token source
        with OAuth2."""
        secret = "password" if self._sign_in == PASSWORD else "token"
        return ("login", secret, "host", "port")

    def _show_sign_in(self) -> None:
        """Show the password or the token field, labelled for the chosen sign-in, and say
        when the provider is known not to take it."""
        sign_in = self._sign_in
        self.query_one("#password-row").display = sign_in == PASSWORD
        self.query_one("#token-row").display = sign_in != PASSWORD
        if sign_in in TOKEN_FIELD:
            label, placeholder, _ = TOKEN_FIELD[sign_in]
            self.query_one("#token-label", Label).update(label)
            self.query_one("#token", Input).placeholder = placeholder
        for field in ("password", "token"):
            show_message(self.query_one(f"#{field}-error", Static), "")
        accepted = "oauth2" in self.preset.auth if sign_in != PASSWORD else (
            self.preset.auth != ("oauth2",))
        show_message(
            self.query_one("#sign-in-warning", Static),
            "" if accepted else (
                f"{self.preset.name} does not take a password any more: use OAuth2."
                if sign_in == PASSWORD else
                f"{self.preset.name} is not known to take OAuth2 from mail programs."),
        )

    def _security_warning(self) -> None:
        plain = self.query_one("#security", Select).value == Security.PLAIN.value
        show_message(
            self.query_one("#security-warning", Static),
            "Without encryption anyone on the network can read your password and mail."
            if plain else "",
        )
        # No TLS, no certificate: the choices about checking it do not apply.
        self.query_one("#insecure", Checkbox).display = not plain
        self.query_one("#cafile-row").display = not plain

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "sign-in":
            self._show_sign_in()
            # What to type next is the password, token file or command: go there if empty.
            secret = self.query_one(f"#{self._fields[1]}", Input)
            if self.is_mounted and not secret.value and self.query_one("#login", Input).value:
                secret.focus()
            return
        self._security_warning()
        # Follow the usual port when the user switches security and kept the default.
        port = self.query_one("#port", Input)
        chosen = str(event.value)
        if port.value in ("993", "143") and chosen in {s.value for s in Security}:
            port.value = str(Security(chosen).default_port)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A field being corrected loses its hint (checked again at the next test).  Only
        once its text differs from what was checked: a change made just before the test
        may be announced after the hint appeared."""
        field = event.input.id
        if field in self._hinted and event.value != self._hinted[field]:
            del self._hinted[field]
            show_message(self.query_one(f"#{field}-error", Static), "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next empty field, and tests once the form is complete."""
        event.stop()
        for field in self._fields:
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
        plain = not self.query_one("#cafile-row").display
        values = {field: self.query_one(f"#{field}", Input).value
                  for field in (*FIELDS, "token", "cafile")}
        if plain:
            values["cafile"] = ""  # not shown, not used
        sign_in = self._sign_in
        problems = check_fields(sign_in=sign_in, **values)
        for field in (*FIELDS, "token", "cafile"):
            show_message(self.query_one(f"#{field}-error", Static), problems.get(field, ""))
        self._hinted = {field: values[field] for field in problems}
        if problems:
            self.query_one(f"#{next(iter(problems))}", Input).focus()
            return
        token, cafile = values["token"].strip(), values["cafile"].strip()
        insecure = self.query_one("#insecure", Checkbox)
        account = Account(
            host=check_host(values["host"], self.side),
            port=check_port(values["port"], self.side),
            login=values["login"].strip(),
            password=values["password"] if sign_in == PASSWORD else "",
            security=Security(str(self.query_one("#security", Select).value)),
            verify_certificate=not (insecure.display and insecure.value),  # shown: not plain
            # An absolute path, like the token file's: the detached copy opens it too.
            ca_file=os.path.abspath(os.path.expanduser(cafile)) if cafile else None,
            role=self.side,
            auth=AuthMethod.PASSWORD if sign_in == PASSWORD else AuthMethod.OAUTH2,
            # An absolute path: the detached copy reads it again for as long as it runs.
            token_file=os.path.abspath(os.path.expanduser(token))
            if sign_in == TOKEN_FILE else None,
            token_command=token if sign_in == TOKEN_COMMAND else None,
        )
        self.post_message(SettingsEntered(self.side, self.preset, account))
