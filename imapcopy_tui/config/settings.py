"""The user's remembered settings: the last non-secret values typed for each side, and the
compression last chosen for a copy.

Written with tomli-w to ``~/.config/imapcopy/settings.toml`` (0600, in a 0700 directory).
A password is never part of it: :class:`RememberedAccount` has no field for one.  An OAuth2
access token neither: only the file or command that gives it, which is not a secret.

A malformed file is reported (file, line, key) and ignored, never repaired: it is not
overwritten until the user fixes or removes it (see :func:`save_settings`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from imapcopy_tui.config.presets import (
    SECURITY_VALUES,
    display_path,
    show_value,
    syntax_error_position,
)
from imapcopy_tui.engine.session import Compression
from imapcopy_tui.errors import ConfigError
from imapcopy_tui.locations import ensure_private_dir, user_settings_path

SIDES = ("source", "destination")
COPY = "copy"  # the table of the copy's own choices
COMPRESSION_VALUES = tuple(choice.value for choice in Compression)
SIGN_INS = ("password", "token_file", "token_command")
"""How the form signs in: password, or an OAuth2 token from a file or a command."""


@dataclass(frozen=True)
class RememberedAccount:
    """What the settings form held last time for one side (never the password)."""

    preset: str = ""
    login: str = ""
    host: str = ""
    port: int = 993
    security: str = "tls"
    ca_file: str = ""
    verify_certificate: bool = True
    sign_in: str = "password"  # one of SIGN_INS
    token_source: str = ""  # the token file or command, with an OAuth2 sign-in


@dataclass(frozen=True)
class Settings:
    source: RememberedAccount | None = None
    destination: RememberedAccount | None = None
    compress: Compression = Compression.AUTO  # the Sync screen's choice, last time

    def for_side(self, side: str) -> RememberedAccount | None:
        return self.source if side == "source" else self.destination

    def with_side(self, side: str, remembered: RememberedAccount) -> Settings:
        if side == "source":
            return replace(self, source=remembered)
        return replace(self, destination=remembered)


def _line_of(text: str, table: str, key: str) -> int | None:
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.strip("[] ") == table
        elif in_table and stripped.split("=", 1)[0].strip() == key:
            return number
    return None


# What each key holds, in TOML's words, for the messages.
_KINDS: dict[type, str] = {int: "a whole number", bool: "true or false", str: "a quoted string"}


def _account(label: str, text: str, side: str, data: Any) -> RememberedAccount:
    def error(key: str, problem: str) -> ConfigError:
        line = _line_of(text, side, key)
        where = f"{label}, line {line}" if line else label
        return ConfigError(f"{where}: [{side}] {key}: {problem}")

    if not isinstance(data, dict):
        raise ConfigError(f"{label}: [{side}] must be a table")
    known = {f.name: f for f in fields(RememberedAccount)}
    for key, value in data.items():
        if key not in known:
            raise error(key, f"unknown key (expected one of: {', '.join(known)})")
        expected = {"port": int, "verify_certificate": bool}.get(key, str)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise error(key, f"must be {_KINDS[expected]}, not {show_value(value)}")
    if "security" in data and data["security"] not in SECURITY_VALUES:
        raise error("security", f"must be one of {', '.join(SECURITY_VALUES)}")
    if "sign_in" in data and data["sign_in"] not in SIGN_INS:
        raise error("sign_in", f"must be one of {', '.join(SIGN_INS)}")
    if "port" in data and not 0 < data["port"] < 65536:
        raise error("port", "must be between 1 and 65535")
    return RememberedAccount(**data)


def _compression(label: str, text: str, data: Any) -> Compression:
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: [{COPY}] must be a table")
    for key, value in data.items():
        line = _line_of(text, COPY, key)
        where = f"{label}, line {line}" if line else label
        if key != "compress":
            raise ConfigError(f"{where}: [{COPY}] {key}: unknown key (expected compress)")
        if value not in COMPRESSION_VALUES:
            raise ConfigError(
                f"{where}: [{COPY}] compress: must be one of {', '.join(COMPRESSION_VALUES)}, "
                f"not {show_value(value)}"
            )
    return Compression(data.get("compress", Compression.AUTO.value))


def load_settings(path: Path | None = None) -> tuple[Settings, list[ConfigError]]:
    """The remembered settings, and what was wrong with the file (then: nothing remembered)."""
    path = path or user_settings_path()
    label = display_path(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), []
    except UnicodeDecodeError as exc:
        return Settings(), [ConfigError(f"{label}: not UTF-8 text (byte {exc.start})")]
    except OSError as exc:
        return Settings(), [ConfigError(f"{label}: cannot be read ({exc.strerror or exc})")]
    try:
        data = tomllib.loads(text)
        unknown = set(data) - {*SIDES, COPY}
        if unknown:
            key = min(unknown)
            raise ConfigError(
                f"{label}: unknown table or key {key!r} (expected source, destination, {COPY})"
            )
        return Settings(
            **{side: _account(label, text, side, data[side]) for side in SIDES if side in data},
            compress=_compression(label, text, data.get(COPY, {})),
        ), []
    except tomllib.TOMLDecodeError as exc:
        reason, line = syntax_error_position(str(exc), text)
        where = f"{label}, line {line}" if line else label
        return Settings(), [ConfigError(f"{where}: TOML syntax error: {reason}")]
    except ConfigError as exc:
        return Settings(), [exc]


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically, readable by the owner only.

    A file that is there but does not load is left as it is (``ConfigError``): it may be a
    hand edit in progress or come from a newer version, and remembering a host name is
    not worth losing it.  The user fixes or removes it; until then nothing is remembered.
    """
    path = path or user_settings_path()
    _, errors = load_settings(path)
    if errors:
        raise ConfigError(
            f"settings not remembered: {errors[0]} (the file is left as it is; "
            "fix or remove it)"
        )
    ensure_private_dir(path.parent)
    data: dict[str, Any] = {
        side: asdict(acct) for side in SIDES if (acct := settings.for_side(side)) is not None
    }
    if settings.compress is not Compression.AUTO:
        data[COPY] = {"compress": settings.compress.value}
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover temporary file keeps its old mode through O_TRUNC
    with os.fdopen(fd, "wb") as handle:
        tomli_w.dump(data, handle)
    os.replace(temporary, path)
