"""Remembered settings: private file, no password, precise errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from imapcopy_tui.config.settings import RememberedAccount, Settings, load_settings, save_settings
from imapcopy_tui.engine.session import Compression
from imapcopy_tui.errors import ConfigError


def test_round_trip_is_private(tmp_path: Path) -> None:
    """What is saved is read back; the file is 0600 in a 0700 directory."""
    path = tmp_path / "cfg" / "settings.toml"
    remembered = RememberedAccount("gmail", "alice@gmail.com", "imap.gmail.com", 993, "tls")
    save_settings(Settings(source=remembered), path)
    assert load_settings(path) == (Settings(source=remembered), [])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    keys = [line.split("=")[0].strip() for line in path.read_text().splitlines() if "=" in line]
    assert not [key for key in keys if "password" in key or "token" == key]
    assert 'sign_in = "password"' in path.read_text()  # the way to sign in, not a password


def test_malformed_file_names_file_line_and_key(tmp_path: Path) -> None:
    """An unknown key: the error says the file, the line and the key; nothing is loaded."""
    path = tmp_path / "settings.toml"
    path.write_text('[source]\nlogin = "a"\nprot = 993\n')
    settings, errors = load_settings(path)
    assert settings == Settings()
    assert [str(e) for e in errors] == [f"{path}, line 3: [source] prot: unknown key "
                                        "(expected one of: preset, login, host, port, security, "
                                        "ca_file, verify_certificate, sign_in, token_source)"]


def test_syntax_error_is_reported_not_raised(tmp_path: Path) -> None:
    """A TOML syntax error is returned as a ConfigError with tomllib's line."""
    path = tmp_path / "settings.toml"
    path.write_text("[source\n")
    _, errors = load_settings(path)
    assert len(errors) == 1 and "line 1" in str(errors[0]) and str(path) in str(errors[0])


def test_syntax_error_names_file_and_line_like_presets(tmp_path: Path) -> None:
    """The same form as a presets file's syntax error: file, line, then tomllib's reason."""
    path = tmp_path / "settings.toml"
    path.write_text('[source]\nport = 993\nhost = imap.example.org\n')
    _, errors = load_settings(path)
    assert [str(e) for e in errors] == [f"{path}, line 3: TOML syntax error: Invalid value"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('port = "993"', 'port: must be a whole number, not "993"'),
        ("port = true", "port: must be a whole number, not true"),
        ('verify_certificate = "yes"', 'verify_certificate: must be true or false, not "yes"'),
        ("host = 1.5", "host: must be a quoted string, not 1.5"),
        ("login = ['a']", "login: must be a quoted string, not a list"),
        ("port = 0", "port: must be between 1 and 65535"),
        ('sign_in = "oauth2"', "sign_in: must be one of password, token_file, token_command"),
    ],
)
def test_wrong_type_names_file_line_and_key(tmp_path: Path, line: str, message: str) -> None:
    """A value of the wrong type: file, line, side and key, in TOML's words."""
    path = tmp_path / "settings.toml"
    path.write_text(f'[source]\nlogin = "alice"\n\n[destination]\n{line}\n')
    settings, errors = load_settings(path)
    assert settings == Settings()
    assert [str(e) for e in errors] == [f"{path}, line 5: [destination] {message}"]


@pytest.mark.parametrize("text", ["[source\n", '[source]\nprot = 993\n', "\xff"])
def test_a_broken_file_is_never_overwritten(tmp_path: Path, text: str) -> None:
    """Saving over a file that does not load refuses, says why, and leaves it byte for byte:
    it may be a hand edit in progress or a newer version's file."""
    path = tmp_path / "settings.toml"
    data = text.encode("latin-1")
    path.write_bytes(data)
    (problem,) = load_settings(path)[1]
    remembered = RememberedAccount("gmail", "alice@gmail.com", "imap.gmail.com", 993, "tls")
    with pytest.raises(ConfigError) as caught:
        save_settings(Settings(source=remembered), path)
    assert str(caught.value) == (
        f"settings not remembered: {problem} (the file is left as it is; fix or remove it)"
    )
    assert path.read_bytes() == data
    assert not path.with_name("settings.toml.tmp").exists()


def test_the_compression_choice_is_remembered(tmp_path: Path) -> None:
    """The Sync screen's compression choice is kept in [copy]; auto, the default, is not
    written at all."""
    path = tmp_path / "settings.toml"
    save_settings(Settings(), path)
    assert "copy" not in path.read_text()
    save_settings(Settings(compress=Compression.OFF), path)
    assert load_settings(path) == (Settings(compress=Compression.OFF), [])
    assert '[copy]\ncompress = "off"' in path.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[copy]\ncompress = "fast"\n',
         'line 2: [copy] compress: must be one of auto, on, off, not "fast"'),
        ("[copy]\ncompress = true\n", "line 2: [copy] compress: must be one of auto, on, off, "
         "not true"),
        ('[copy]\nlevel = 9\n', "line 2: [copy] level: unknown key (expected compress)"),
        ('copy = "on"\n', "[copy] must be a table"),
    ],
)
def test_a_bad_compression_choice_is_reported(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    settings, errors = load_settings(path)
    assert settings == Settings()
    assert len(errors) == 1 and str(errors[0]).endswith(message), errors
