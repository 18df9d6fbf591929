"""Provider presets: the shipped file, the user's overrides, and the error messages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from imapcopy_tui.config import (
    OTHER_KEY,
    SECURITY_VALUES,
    Preset,
    PresetCatalogue,
    load_presets,
    load_presets_lenient,
    load_shipped_presets,
)
from imapcopy_tui.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

# Every provider named in OVH's IMAPCopy guides (FR, FI, LT, PT, ES seeds), plus
# Microsoft 365: key -> (host, port, security).  "" hosts are typed by the user.
GUIDE_PROVIDERS = {
    "aol": ("imap.aol.com", 993, "tls"),
    "free": ("imap.free.fr", 993, "tls"),
    "gmail": ("imap.gmail.com", 993, "tls"),
    "laposte": ("imap.laposte.net", 993, "tls"),
    "orange": ("imap.orange.fr", 993, "tls"),
    "sfr": ("imap.sfr.fr", 993, "tls"),
    "yahoo": ("imap.mail.yahoo.com", 993, "tls"),
    "outlook_com": ("outlook.office365.com", 993, "tls"),
    "suomi24": ("", 993, "tls"),
    "microsoft365": ("outlook.office365.com", 993, "tls"),
    "ovh_mx_plan": ("ssl0.ovh.net", 993, "tls"),
    "ovh_hosted_exchange": ("ex.mail.ovh.net", 993, "tls"),
    "ovh_private_exchange": ("", 993, "tls"),
    "ovh_exchange_25g": ("", 993, "tls"),
    "ovh_exchange_corporate": ("", 993, "tls"),
    "ovh_exchange_reseller": ("", 993, "tls"),
    "other": ("", 993, "tls"),
}
DESTINATION_ONLY = {"ovh_exchange_25g", "ovh_exchange_corporate", "ovh_exchange_reseller"}


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def load_user(tmp_path: Path, text: str) -> PresetCatalogue:
    return load_presets(write(tmp_path / "presets.toml", text))


def user_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_user(tmp_path, text)
    return str(caught.value)


# --- the shipped file -------------------------------------------------------------------


def test_shipped_file_loads_without_user_file(tmp_path: Path) -> None:
    """The shipped presets load, and a missing user file is not an error."""
    catalogue = load_presets(tmp_path / "absent.toml")
    assert len(catalogue) == len(load_shipped_presets()) > 0
    assert all(isinstance(p, Preset) for p in catalogue)


def test_every_guide_provider_is_present_with_its_settings() -> None:
    """Each provider of the guides has its host, port and security."""
    catalogue = load_shipped_presets()
    got = {p.key: (p.host, p.port, p.security) for p in catalogue}
    assert got == GUIDE_PROVIDERS


def test_shipped_values_are_well_formed() -> None:
    """Security values are known, names unique, and unverified entries say so."""
    catalogue = load_shipped_presets()
    assert all(p.security in SECURITY_VALUES for p in catalogue)
    names = [p.name.casefold() for p in catalogue]
    assert len(names) == len(set(names))
    for preset in catalogue:
        if preset.verified:
            assert preset.source_url.startswith("https://"), preset.key
    text = (REPO / "presets.toml").read_text(encoding="utf-8")
    for preset in catalogue:
        if not preset.verified and preset.key != OTHER_KEY:
            section = text.split(f"\n[{preset.key}]\n", 1)[1].split("\n[", 1)[0]
            assert "# Not verified" in section, preset.key


def test_roles_follow_the_guide() -> None:
    """The legacy OVH Exchange offers are destinations only; the rest are both."""
    catalogue = load_shipped_presets()
    destination_only = {p.key for p in catalogue if p.roles == ("destination",)}
    assert destination_only == DESTINATION_ONLY
    assert {p.key for p in catalogue.for_role("source")} == set(GUIDE_PROVIDERS) - DESTINATION_ONLY


def test_destination_size_limits_of_the_big_providers() -> None:
    shipped = load_shipped_presets()
    assert shipped.get("gmail").max_message_bytes == 25_000_000
    assert shipped.get("microsoft365").max_message_bytes == 35_000_000
    assert shipped.get("orange").max_message_bytes is None


def test_gmail_caps_connections() -> None:
    """Gmail carries its per-account connection limit."""
    assert load_shipped_presets().get("gmail").max_connections == 15


def test_other_is_last_for_every_role() -> None:
    """"Other" closes every picker, whatever the order in the files."""
    catalogue = load_shipped_presets()
    assert catalogue.keys()[-1] == OTHER_KEY
    for role in ("source", "destination"):
        assert catalogue.for_role(role)[-1].key == OTHER_KEY


def test_lookup_by_key_or_display_name_ignores_case() -> None:
    """get() finds a preset by key or display name, case-insensitively."""
    catalogue = load_shipped_presets()
    assert catalogue.get("GMAIL").key == "gmail"
    assert catalogue.get("la poste").key == "laposte"
    assert catalogue.get("Hotmail / Outlook.com").key == "outlook_com"
    assert "Orange" in catalogue and "nope" not in catalogue


def test_unknown_preset_lists_the_known_keys() -> None:
    """An unknown preset name is a ConfigError naming it and the known keys."""
    with pytest.raises(ConfigError, match=r'unknown preset "gmial"; known: aol, free, gmail'):
        load_shipped_presets().get("gmial")


def test_shipped_file_is_packaged_as_a_link_to_the_top_level_file() -> None:
    """The package's presets.toml is the repository's file, not a copy that can drift."""
    packaged = REPO / "imapcopy_tui" / "presets.toml"
    assert packaged.resolve() == (REPO / "presets.toml").resolve()


def test_config_does_not_import_textual() -> None:
    """Loading presets never pulls in Textual (import hygiene)."""
    code = ("import sys, imapcopy_tui.config as c; c.load_shipped_presets(); "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


# --- the user's file --------------------------------------------------------------------


def test_user_file_overrides_and_adds(tmp_path: Path) -> None:
    """A user table with a shipped key replaces it in place; a new key is added before Other."""
    catalogue = load_user(tmp_path, """
        [other]
        name = "Other"
        host = ""
        port = 143
        security = "starttls"

        [gmail]
        name = "Gmail (work proxy)"
        host = "imap-proxy.example.org"
        port = 10993
        security = "tls"
        roles = ["source"]

        [myhost]
        name = "My host"
        host = "imap.example.org"
        port = 993
        security = "tls"
        note = "The office server."
        """)
    gmail = catalogue.get("gmail")
    assert (gmail.host, gmail.port, gmail.roles) == ("imap-proxy.example.org", 10993, ("source",))
    assert gmail.max_connections is None  # replaced whole, not merged field by field
    assert catalogue.get("My Host").note == "The office server."
    assert catalogue.get("myhost").roles == ("source", "destination")
    keys = catalogue.keys()
    assert keys.index("gmail") == load_shipped_presets().keys().index("gmail")
    assert keys[-2:] == ["myhost", OTHER_KEY]
    assert catalogue.get("other").port == 143
    assert "gmail" not in [p.key for p in catalogue.for_role("destination")]


def test_user_keys_ignore_case(tmp_path: Path) -> None:
    """[Gmail] in the user file overrides the shipped [gmail]."""
    catalogue = load_user(tmp_path, """
        [Gmail]
        name = "Gmail"
        host = "imap.gmail.com"
        port = 993
        security = "tls"
        note = "mine"
        """)
    assert catalogue.get("gmail").note == "mine"
    assert catalogue.keys().count("gmail") == 1


def test_unknown_key_names_file_line_table_and_key(tmp_path: Path) -> None:
    """A typo in a field is reported with file, line, preset, key and the expected keys."""
    message = user_error(tmp_path, """
        # my presets

        [myhost]
        name = "My host"
        host = "imap.example.org"
        prot = 993
        security = "tls"
        """)
    path = str(tmp_path / "presets.toml")
    assert message.startswith(f'{path}, line 6: [myhost] unknown key "prot"')
    assert 'did you mean "port"?' in message
    assert ("expected one of: auth, host, max_connections, max_message_mb, name, needs, note, "
            "port, roles, "
            "security" in message)


def test_bad_port_is_reported_on_its_line(tmp_path: Path) -> None:
    """A port out of range names the file, line, preset and value."""
    message = user_error(tmp_path, """
        [myhost]
        name = "My host"
        host = "imap.example.org"
        port = 99300
        security = "tls"
        """)
    assert message.endswith(', line 4: [myhost] "port" must be between 1 and 65535, not 99300')


def test_port_of_wrong_type_is_reported(tmp_path: Path) -> None:
    """A quoted port is a type error, not silently converted."""
    message = user_error(tmp_path, """
        [myhost]
        name = "My host"
        host = "imap.example.org"
        port = "993"
        security = "tls"
        """)
    assert 'line 4: [myhost] "port" must be an integer, not "993"' in message


def test_bad_security_suggests_the_right_word(tmp_path: Path) -> None:
    """security = "ssl" is refused with the allowed values and a suggestion."""
    message = user_error(tmp_path, """
        [myhost]
        name = "My host"
        host = "imap.example.org"
        port = 993
        security = "SSL"
        """)
    assert 'line 5: [myhost] "security" must be one of "tls", "starttls", "plain", not "SSL"' \
        in message
    assert message.endswith('(did you mean "tls"?)')


def test_missing_field_points_at_the_table(tmp_path: Path) -> None:
    """A missing required field is reported on the table's header line."""
    message = user_error(tmp_path, """
        [ok]
        name = "OK"
        host = "imap.ok.example"
        port = 993
        security = "tls"

        [myhost]
        name = "My host"
        port = 993
        security = "tls"
        """)
    assert message.endswith(', line 7: [myhost] missing required key "host"')


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("imaps://imap.example.org", "bare server name"),
        ("imap.example.org:993", 'put it in "port"'),
        ("imap example.org", "must not contain spaces"),
    ],
)
def test_host_must_be_a_bare_name(tmp_path: Path, host: str, expected: str) -> None:
    """URLs, embedded ports and spaces in host are refused with a hint."""
    message = user_error(tmp_path, f"""
        [myhost]
        name = "My host"
        host = "{host}"
        port = 993
        security = "tls"
        """)
    assert "line 3: [myhost]" in message and expected in message


def test_ipv6_host_is_accepted(tmp_path: Path) -> None:
    """An IPv6 literal is a valid host despite its colons."""
    catalogue = load_user(tmp_path, """
        [lab]
        name = "Lab"
        host = "::1"
        port = 1143
        security = "plain"
        roles = ["destination"]
        """)
    assert catalogue.get("lab").host == "::1"


def test_other_wrong_types_are_reported(tmp_path: Path) -> None:
    """roles, verified and max_connections are type-checked too."""
    base = 'name = "X"\nhost = "imap.x.example"\nport = 993\nsecurity = "tls"\n'
    cases = {
        'roles = ["sender"]': '"roles" must be a non-empty list',
        'verified = "yes"': '"verified" must be true or false, not "yes"',
        "max_connections = 0": '"max_connections" must be a positive integer, not 0',
        "max_message_mb = 2.5": '"max_message_mb" must be a positive integer, not 2.5',
    }
    for extra, expected in cases.items():
        message = user_error(tmp_path, "[x]\n" + base + extra + "\n")
        assert message.endswith(expected) or expected in message, message
        assert ", line 6: [x] " in message


def test_duplicate_display_name_is_refused(tmp_path: Path) -> None:
    """A new preset may not reuse a shipped display name: lookups would be ambiguous."""
    message = user_error(tmp_path, """
        [mygmail]
        name = "GMAIL"
        host = "imap.gmail.com"
        port = 993
        security = "tls"
        """)
    assert 'line 2: [mygmail] name "GMAIL" is already used by preset [gmail]' in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """tomllib's syntax errors keep their line and are prefixed with the file."""
    message = user_error(tmp_path, """
        [myhost]
        name = "My host"
        host = imap.example.org
        """)
    assert message.startswith(f"{tmp_path / 'presets.toml'}, line 3: TOML syntax error: ")
    assert "(at line" not in message


def test_non_table_entry_is_refused(tmp_path: Path) -> None:
    """A top-level value that is not a table is reported by name."""
    message = user_error(tmp_path, 'gmail = "imap.gmail.com"\n')
    assert message.endswith(', line 1: [gmail] must be a table like [gmail], not a string')


def test_home_is_shown_as_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths under the home directory are written ~/..., as in the user's own notes."""
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / ".config" / "imapcopy"
    config.mkdir(parents=True)
    message = user_error(config, "[x]\nname = 'X'\nhost = ''\nport = 993\nsecurity = 'tls'\n"
                                 "prot = 1\n")
    assert message.startswith("~/.config/imapcopy/presets.toml, line 6: [x] unknown key")


def test_default_user_file_comes_from_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an argument the user file is $XDG_CONFIG_HOME/imapcopy/presets.toml."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "imapcopy").mkdir()
    write(tmp_path / "imapcopy" / "presets.toml", """
        [myhost]
        name = "My host"
        host = "imap.example.org"
        port = 993
        security = "tls"
        """)
    assert load_presets().get("myhost").host == "imap.example.org"


# --- the lenient loader -----------------------------------------------------------------


def test_lenient_loader_keeps_shipped_presets_and_returns_every_error(tmp_path: Path) -> None:
    """A broken user file yields the shipped catalogue plus all its errors, nothing raised."""
    user = write(tmp_path / "presets.toml", """
        [gmail]
        name = "Gmail"
        host = "evil.example"
        port = 993
        security = "tls"

        [myhost]
        name = "My host"
        host = "imap.example.org"
        prot = 993
        security = "ssl"
        """)
    catalogue, errors = load_presets_lenient(user)
    assert [p.key for p in catalogue] == load_shipped_presets().keys()
    assert catalogue.get("gmail").host == "imap.gmail.com"  # no partial merge
    assert all(isinstance(e, ConfigError) for e in errors)
    messages = [str(e) for e in errors]
    assert any('line 10: [myhost] unknown key "prot"' in m for m in messages)
    assert any('line 11: [myhost] "security"' in m for m in messages)
    assert any('line 7: [myhost] missing required key "port"' in m for m in messages)


def test_lenient_loader_reports_syntax_and_encoding_errors(tmp_path: Path) -> None:
    """Unparseable or non-UTF-8 user files also fall back to the shipped presets."""
    broken = write(tmp_path / "broken.toml", "[x\n")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"[x]\nname = '\xff'\n")
    for path in (broken, binary):
        catalogue, errors = load_presets_lenient(path)
        assert len(catalogue) == len(load_shipped_presets())
        assert len(errors) == 1 and str(errors[0]).startswith(str(path))


def test_lenient_loader_with_a_good_file_merges(tmp_path: Path) -> None:
    """With a valid user file the lenient loader returns the merged catalogue and no errors."""
    user = write(tmp_path / "presets.toml", """
        [myhost]
        name = "My host"
        host = "imap.example.org"
        port = 993
        security = "tls"
        """)
    catalogue, errors = load_presets_lenient(user)
    assert errors == [] and "myhost" in catalogue


# --- sign-in: auth and needs ------------------------------------------------------------


def test_shipped_sign_in_methods() -> None:
    """Microsoft takes OAuth2 only; Google, Yahoo and AOL app passwords or OAuth2; every
    other shipped provider the password (the default when a preset says nothing)."""
    catalogue = load_shipped_presets()
    by_auth = {key: catalogue.get(key).auth for key in GUIDE_PROVIDERS}
    assert by_auth.pop("microsoft365") == by_auth.pop("outlook_com") == ("oauth2",)
    for key in ("gmail", "yahoo", "aol"):
        assert by_auth.pop(key) == ("app_password", "oauth2")
    assert by_auth.pop("other") == ("password", "oauth2")
    assert set(by_auth.values()) == {("password",)}
    assert catalogue.get("microsoft365").needs_text == (
        "Microsoft 365 / Exchange Online needs IMAP allowed for the mailbox by its "
        "administrator.")
    assert catalogue.get("free").needs_text == ""


def test_auth_and_needs_are_checked(tmp_path: Path) -> None:
    """Unknown words, empty or repeated lists: file, line, preset and key, a "did you mean"
    for a near miss; a preset without them signs in with a password and needs nothing."""
    base = 'name = "X"\nhost = "imap.x.example"\nport = 993\nsecurity = "tls"\n'
    allowed = '"password", "app_password", "oauth2"'
    cases = {
        'auth = ["oauth"]': f'"auth" must be a non-empty list of {allowed}, not "oauth" '
                            '(did you mean "oauth2"?)',
        "auth = []": f'"auth" must be a non-empty list of {allowed}, not a list',
        'auth = "oauth2"': f'"auth" must be a non-empty list of {allowed}, not "oauth2"',
        'auth = ["oauth2", "oauth2"]': '"auth" lists a value twice',
        'needs = ["imap"]': '"needs" must be a list of "imap_enabled", "admin_enables_imap", '
                            '"two_step_verification", not "imap"',
    }
    for extra, expected in cases.items():
        message = user_error(tmp_path, "[x]\n" + base + extra + "\n")
        assert message.endswith(f", line 6: [x] {expected}"), message
    plain = load_user(tmp_path, "[x]\n" + base).get("x")
    assert (plain.auth, plain.needs) == (("password",), ())
    chosen = load_user(tmp_path, "[x]\n" + base + 'auth = ["oauth2", "app_password"]\n'
                       'needs = ["imap_enabled"]\n').get("x")
    assert (chosen.auth, chosen.needs) == (("oauth2", "app_password"), ("imap_enabled",))
