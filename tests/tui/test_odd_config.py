"""The app with odd configuration files: it starts, says what is wrong in the file's own
words (brackets included: text from a file is never read as markup), and never rewrites a
settings file it could not read."""

from __future__ import annotations

import time
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from textual.widgets._toast import Toast

from imapcopy_tui.config.presets import load_shipped_presets
from imapcopy_tui.config.settings import load_settings
from imapcopy_tui.engine.account import Account
from imapcopy_tui.tui.app import ImapCopyApp
from imapcopy_tui.tui.messages import ConnectionVerified
from imapcopy_tui.tui.screens.service import ServiceScreen
from imapcopy_tui.tui.screens.settings import SettingsScreen
from tests.tui.test_flow import arrive

SIZE = (80, 24)


async def toasts(pilot: Pilot[int], count: int = 1) -> list[str]:
    """The text of the notices on the screen, as the user reads it, once ``count`` show."""
    # The toast rack fills after the screen's next refresh: a deadline, not a number of
    # short pauses, so that a slow machine gets as long as it needs.
    deadline = time.monotonic() + 30
    while True:
        shown = [toast.render().plain for toast in pilot.app.screen.query(Toast)]
        if len(shown) >= count or time.monotonic() > deadline:
            return shown
        await pilot.pause(0.05)


def app_with_presets(tmp_path: Path, presets: str) -> ImapCopyApp:
    """The app with this user presets file (and no settings file)."""
    (tmp_path / "presets.toml").write_text(presets)
    return ImapCopyApp(db_path=tmp_path / "jobs.sqlite3", presets_file=tmp_path / "presets.toml",
                       settings_file=tmp_path / "settings.toml")


async def test_notices_show_the_file_words_not_markup(tmp_path: Path) -> None:
    """A preset's key in brackets stays in the notice (it is the preset's name), and text
    that looks like markup is shown, not interpreted."""
    app = app_with_presets(tmp_path, '[mine]\nname = "Mine"\nhost = "imap.mine.example"\n'
                           'port = 993\nsecurity = "tls"\nprot = 1\n\n["[/]"]\nname = "x"\n')
    presets = tmp_path / "presets.toml"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        shown = "\n".join(await toasts(pilot, 2))
        assert f'{presets}, line 6: [mine] unknown key "prot"' in shown
        assert f'{presets}, line 8: [[/]] preset key must use only letters' in shown


async def test_preset_names_are_shown_as_typed(tmp_path: Path) -> None:
    """A user's preset named with brackets is listed and titled with them."""
    app = app_with_presets(tmp_path, '[lab]\nname = "Lab [EU] [/]"\nhost = "imap.lab.example"\n'
                           'port = 993\nsecurity = "tls"\nnote = "Use the [b]VPN[/b]"\n')
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press(*"lab")
        await pilot.pause()
        services = app.screen.query_one("#services", OptionList)
        prompt = services.get_option_at_index(0).prompt
        assert str(getattr(prompt, "plain", prompt)) == "Lab [EU] [/]  imap.lab.example"
        assert app.screen.query_one("#note", Static).render().plain == "Use the [b]VPN[/b]"
        await pilot.press("enter")
        await arrive(pilot, SettingsScreen)
        texts = [w.render().plain for w in app.screen.query(".title, .note").results(Static)]
        assert texts == ["Source mailbox - service: Lab [EU] [/]", "Use the [b]VPN[/b]"]


async def test_a_broken_settings_file_is_reported_and_kept(tmp_path: Path) -> None:
    """A verified connection would remember the settings: over a file that does not load,
    it says so in a notice and leaves the file byte for byte; the flow goes on."""
    settings = tmp_path / "settings.toml"
    settings.write_text('[source]\nport = "993"\n# my notes\n')
    before = settings.read_bytes()
    (problem,) = load_settings(settings)[1]
    app = ImapCopyApp(db_path=tmp_path / "jobs.sqlite3", settings_file=settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert await toasts(pilot) == [f"Configuration ignored\n{problem}"]
        account = Account(host="imap.example.org", login="alice", password="pw")
        app.post_message(ConnectionVerified("source", load_shipped_presets().get("other"),
                                            account))
        await pilot.pause()
        assert (await toasts(pilot, 2))[-1] == (
            f"settings not remembered: {problem} (the file is left as it is; fix or remove it)"
        )
        assert isinstance(app.screen, ServiceScreen) and app.screen.side == "destination"
    assert settings.read_bytes() == before
    assert str(problem) == f'{settings}, line 2: [source] port: must be a whole number, not "993"'
