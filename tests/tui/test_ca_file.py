"""The settings form's CA file: a server whose certificate a private authority signed is
checked with that authority's certificate, from the app as from the command line
(``--cafile1``), instead of only "do not check"."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.screens.settings import SettingsScreen
from tests.dovecot import CERT_HOSTNAME, DovecotServer
from tests.tui.test_flow import SIZE, arrive, choose_other, test_connection, text_of


def fill(screen: SettingsScreen, server: DovecotServer, cafile: str) -> None:
    """The TLS port, under the name its certificate is for; the preset's security (TLS)."""
    for field, value in (("login", "alice"), ("password", server.password),
                         ("host", CERT_HOSTNAME), ("port", str(server.tls_port)),
                         ("cafile", cafile)):
        screen.query_one(f"#{field}", Input).value = value


async def test_the_ca_file_lets_a_private_certificate_be_checked(
    tmp_path: Path, dovecot_src: DovecotServer
) -> None:
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await choose_other(pilot)
        screen = app.screen
        assert isinstance(screen, SettingsScreen)

        fill(screen, dovecot_src, str(tmp_path / "no-such-ca.pem"))
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.screen is screen  # nothing connects with a CA file that is not there
        assert text_of(app, "#cafile-error") == (
            "There is no such file; type the path of the CA certificate (PEM), or leave "
            "this empty."
        )

        fill(screen, dovecot_src, "")
        connect = await test_connection(pilot)
        assert not connect.passed  # the test certificate's authority is not trusted here
        assert "certificate is not trusted" in text_of(app, "#error")
        await pilot.press("escape")
        await arrive(pilot, SettingsScreen)

        fill(screen, dovecot_src, str(dovecot_src.ca_file))
        connect = await test_connection(pilot)
        assert connect.passed, text_of(app, "#error")
        assert connect.account.ca_file == str(dovecot_src.ca_file)
        assert connect.account.verify_certificate  # checked, not skipped
        shown = " ".join(str(w.render()) for w in connect.query(Static))
        assert "certificate is not checked" not in shown
