"""Sign-in in the settings form: a password, or an OAuth2 token file or command, with the
preset's usual way preselected; an OAuth2 connection test against real Dovecot."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from imapcopy_tui.config.settings import load_settings
from imapcopy_tui.engine.account import Account
from imapcopy_tui.errors import AuthError
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.connect import ConnectScreen
from imapcopy_tui.tui.screens.service import ServiceScreen
from imapcopy_tui.tui.screens.settings import SettingsScreen, check_fields
from tests.dovecot import DovecotServer
from tests.oauth2 import TokenIssuer
from tests.tui.test_flow import SIZE, test_connection, text_of, wait_for


def app_for(tmp_path: Path) -> ImapCopyApp:
    return ImapCopyApp(db_path=tmp_path / "jobs.sqlite3",
                       presets_file=tmp_path / "no-presets.toml",
                       settings_file=tmp_path / "settings.toml")


async def open_settings(pilot: Pilot[int], preset: str) -> SettingsScreen:
    """The source settings of ``preset`` (choosing the service is tested elsewhere)."""
    app = pilot.app
    assert isinstance(app, ImapCopyApp)
    screen = SettingsScreen("source", app.catalogue.get(preset), None)
    app.push_screen(screen)
    await pilot.pause()
    return screen


async def choose_sign_in(pilot: Pilot[int], screen: SettingsScreen, downs: int) -> None:
    """Open the sign-in list and move ``downs`` from the top (0 password, 1 token file,
    2 token command), as a person does with the keyboard."""
    select = screen.query_one("#sign-in", Select)
    select.focus()
    await pilot.press("enter")
    await pilot.pause()  # the list opens
    await pilot.press("home", *["down"] * downs, "enter")
    await pilot.pause()
    assert select.value == ("password", "token_file", "token_command")[downs]


@pytest.mark.dovecot
async def test_token_command_signs_in_and_is_remembered(
    tmp_path: Path, dovecot_oauth2: DovecotServer, token_issuer: TokenIssuer, unique_user: str
) -> None:
    """Other, "OAuth2 token command": the token field replaces the password; the test
    signs in to the OAuth2-only server; the command (not a token) is remembered."""
    token = token_issuer.issue(unique_user)
    command = f"echo {token}"
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot, "other")
        # Long texts are set rather than typed (a key press costs a frame): the keys that
        # matter here are the list's and Tab's.
        screen.query_one("#login", Input).value = unique_user
        await choose_sign_in(pilot, screen, 2)
        assert not screen.query_one("#password-row").display
        assert str(screen.query_one("#token-label", Static).render()) == "Token command"
        assert screen.focused is screen.query_one("#token", Input)
        screen.query_one("#token", Input).value = command
        screen.query_one("#host", Input).value = dovecot_oauth2.host
        screen.query_one("#port", Input).value = str(dovecot_oauth2.plain_port)
        screen.query_one("#security").focus()
        await pilot.press("enter", "down", "down", "enter")  # security: None
        await pilot.pause()
        assert screen.query_one("#security", Select).value == "plain"
        connect = await test_connection(pilot)
        assert text_of(app, "#step-2").endswith("has been established."), text_of(app, "#error")
        assert connect.account.token_command == command and connect.account.password == ""
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ServiceScreen))
    remembered = load_settings(tmp_path / "settings.toml")[0].source
    assert remembered is not None
    assert (remembered.sign_in, remembered.token_source) == ("token_command", command)
    assert token in token_issuer.asked


async def test_oauth2_only_provider_preselects_oauth2_and_warns_about_a_password(
    tmp_path: Path,
) -> None:
    """Microsoft 365 opens on "OAuth2 token command"; choosing Password says it will be
    refused; a token file that does not exist is reported beside the field, unsent."""
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot, "microsoft365")
        assert screen.query_one("#sign-in", Select).value == "token_command"
        assert screen.query_one("#token-row").display
        assert not screen.query_one("#password-row").display
        assert text_of(app, "#sign-in-warning") == ""
        screen.query_one("#login", Input).value = "alice@contoso.example"
        await choose_sign_in(pilot, screen, 0)
        assert screen.query_one("#password-row").display
        assert text_of(app, "#sign-in-warning") == (
            "Microsoft 365 / Exchange Online does not take a password any more: use OAuth2.")
        await choose_sign_in(pilot, screen, 1)
        assert str(screen.query_one("#token-label", Static).render()) == "Token file"
        assert screen.focused is screen.query_one("#token", Input)
        screen.query_one("#token", Input).value = str(tmp_path / "missing")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert not isinstance(app.screen, ConnectScreen)
        assert text_of(app, "#token-error") == (
            "There is no such file; type the path of the token file.")


def test_form_checks_the_field_of_the_chosen_sign_in(tmp_path: Path) -> None:
    """The password is asked for with a password sign-in only; the token file or command
    with OAuth2 (the file must exist)."""
    token = tmp_path / "token"
    token.write_text("t\n")
    base = ("alice", "", "imap.example.org", "993")
    assert set(check_fields(*base)) == {"password"}
    assert check_fields(*base, sign_in="token_command", token="get-token") == {}
    assert check_fields(*base, sign_in="token_file", token=str(token)) == {}
    assert check_fields(*base, sign_in="token_command") == {
        "token": "Type the command that prints the OAuth2 access token."}


async def test_refused_sign_in_reminds_what_the_provider_needs(tmp_path: Path) -> None:
    """The server refused the sign-in: below its words, what the preset says the provider
    needs first (here, Gmail's two-step verification for an app password)."""
    app = app_for(tmp_path)
    account = Account("imap.gmail.com", "alice@gmail.com", "app-pw")

    def refused(account: Account, **_: object) -> frozenset[str]:
        raise AuthError(f"{account.describe()}: the server refused the login or password")

    with mock.patch("imapcopy_tui.tui.screens.connect.test_connection", refused):
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(ConnectScreen("source", app.catalogue.get("gmail"), account))
            await wait_for(pilot, lambda: isinstance(app.screen, ConnectScreen)
                           and app.screen.finished)
            assert "refused the login" in text_of(app, "#error")
            assert text_of(app, "#needs") == (
                "Gmail needs two-step verification turned on (to make an app password).")
