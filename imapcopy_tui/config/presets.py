"""Provider presets: the shipped ``presets.toml`` with the user's own merged over it.

The shipped file lives in the package (``imapcopy_tui/presets.toml``, a link to the
repository's top-level file) and is read with :mod:`importlib.resources`, so it is found
the same way from a checkout, a wheel or a zip.  The user's file
(``~/.config/imapcopy/presets.toml``) has the same format; a table with the same key
replaces a shipped preset whole, a new key adds one.

Every problem is a :class:`~imapcopy_tui.errors.ConfigError` whose one-line message names
the file, the line when it can be found, the preset and the field.  A broken *user* file
must never lock the user out of the shipped presets: :func:`load_presets_lenient` returns
them together with the errors, for the UI to show.

Security stays a plain string here ("tls", "starttls", "plain"): the engine owns the
``Security`` enum and converts, so the config layer does not import the engine.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from imapcopy_tui.errors import ConfigError
from imapcopy_tui.locations import user_presets_path

SECURITY_VALUES: tuple[str, ...] = ("tls", "starttls", "plain")
ROLES: tuple[str, ...] = ("source", "destination")
AUTH_VALUES: tuple[str, ...] = ("password", "app_password", "oauth2")
"""Ways a provider lets IMAP clients sign in: the mailbox's own password, an app password
made in the account's security settings (sent the same way), an OAuth2 access token."""
NEEDS: dict[str, str] = {
    "imap_enabled": "IMAP turned on in the mailbox's settings",
    "admin_enables_imap": "IMAP allowed for the mailbox by its administrator",
    "two_step_verification": "two-step verification turned on (to make an app password)",
}
"""What a provider needs done before the first copy, and how to say it."""
OTHER_KEY = "other"
"""Key of the catch-all preset (no host), always listed last."""

SHIPPED_RESOURCE = "presets.toml"

_REQUIRED: tuple[str, ...] = ("name", "host", "port", "security")
_OPTIONAL: tuple[str, ...] = (
    "roles", "note", "max_connections", "max_message_mb", "verified", "source_url", "auth",
    "needs",
)
_FIELDS: tuple[str, ...] = _REQUIRED + _OPTIONAL
_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
# Words users copy from mail-client dialogs, mapped to our values for a "did you mean".
_SECURITY_HINTS = {"ssl": "tls", "ssl/tls": "tls", "tls/ssl": "tls", "imaps": "tls",
                   "none": "plain", "no": "plain", "off": "plain", "starttls": "starttls"}


@dataclass(frozen=True)
class Preset:
    """One provider's IMAP settings, as shown in the account pickers."""

    key: str
    name: str
    host: str
    port: int
    security: str
    roles: tuple[str, ...] = ROLES
    note: str = ""
    max_connections: int | None = None
    max_message_mb: int | None = None  # the largest message it takes (1 MB = 10^6 bytes)
    verified: bool = False
    source_url: str = ""
    auth: tuple[str, ...] = ("password",)  # what sign-in works, the usual one first
    needs: tuple[str, ...] = ()  # keys of NEEDS

    @property
    def needs_text(self) -> str:
        """What to do at the provider before the first copy, as a sentence ("" if nothing)."""
        if not self.needs:
            return ""
        return f"{self.name} needs " + "; ".join(NEEDS[n] for n in self.needs) + "."

    def has_role(self, role: str) -> bool:
        """Whether the preset is offered for ``role`` ("source" or "destination")."""
        return role in self.roles

    @property
    def max_message_bytes(self) -> int | None:
        return self.max_message_mb * 1_000_000 if self.max_message_mb else None

    @property
    def needs_host(self) -> bool:
        """True when the user must type the server name (``host`` is empty)."""
        return not self.host


class PresetCatalogue:
    """The presets in display order ("other" last), looked up by key or display name."""

    def __init__(self, presets: Iterable[Preset]) -> None:
        items = list(presets)
        # Stable sort: file order is display order, except that Other always closes it.
        ordered = sorted(items, key=lambda p: p.key == OTHER_KEY)
        self._presets: tuple[Preset, ...] = tuple(ordered)
        self._by_key = {p.key.casefold(): p for p in ordered}
        self._by_name: dict[str, Preset] = {}
        for preset in ordered:
            self._by_name.setdefault(preset.name.casefold(), preset)

    def find(self, key_or_name: str) -> Preset | None:
        """The preset with this key, else this display name (both case-insensitive)."""
        wanted = key_or_name.strip().casefold()
        return self._by_key.get(wanted) or self._by_name.get(wanted)

    def get(self, key_or_name: str) -> Preset:
        """Like :meth:`find`, but an unknown name is a ``ConfigError`` listing the keys."""
        preset = self.find(key_or_name)
        if preset is None:
            known = ", ".join(p.key for p in self._presets)
            raise ConfigError(f'unknown preset "{key_or_name}"; known: {known}')
        return preset

    def for_role(self, role: str) -> list[Preset]:
        """Presets offered for ``role``, in display order with "other" last."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        return [p for p in self._presets if p.has_role(role)]

    def keys(self) -> list[str]:
        """Preset keys in display order."""
        return [p.key for p in self._presets]

    def __iter__(self) -> Iterator[Preset]:
        return iter(self._presets)

    def __len__(self) -> int:
        return len(self._presets)

    def __contains__(self, key_or_name: object) -> bool:
        return isinstance(key_or_name, str) and self.find(key_or_name) is not None

    def __repr__(self) -> str:
        return f"PresetCatalogue({self.keys()!r})"


# --- public loaders ---------------------------------------------------------------------


def load_presets(user_file: Path | None = None) -> PresetCatalogue:
    """The shipped presets with ``user_file`` (default: the user's presets) merged over.

    A missing user file is fine.  Any problem in either file raises ``ConfigError``
    (the first one found, if there are several).
    """
    catalogue, errors = _load(user_file)
    if errors:
        raise errors[0]
    return catalogue


def load_presets_lenient(
    user_file: Path | None = None,
) -> tuple[PresetCatalogue, list[ConfigError]]:
    """Like :func:`load_presets`, but a broken user file does not stop anything.

    Returns the merged catalogue and ``[]``, or, when the user file has problems, the
    shipped catalogue alone and every error found in that file.  A broken *shipped*
    file is an installation bug and still raises.
    """
    return _load(user_file)


def load_shipped_presets() -> PresetCatalogue:
    """Only the presets shipped with the program."""
    return PresetCatalogue(_load_shipped().values())


# --- loading and merging ----------------------------------------------------------------


def _load(user_file: Path | None) -> tuple[PresetCatalogue, list[ConfigError]]:
    shipped = _load_shipped()
    path = user_presets_path() if user_file is None else user_file
    label = display_path(str(path))
    try:
        text = _read_user_file(path, label)
    except ConfigError as exc:
        return PresetCatalogue(shipped.values()), [exc]
    if text is None:
        return PresetCatalogue(shipped.values()), []
    user, errors = _parse(text, label)
    merged = {**shipped, **user}  # same key replaces in place; new keys are appended
    errors += _name_clashes(merged, user, label, _Locator(text))
    if errors:
        return PresetCatalogue(shipped.values()), errors
    return PresetCatalogue(merged.values()), []


def _load_shipped() -> dict[str, Preset]:
    resource = resources.files("imapcopy_tui") / SHIPPED_RESOURCE
    label = display_path(str(resource))
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read the shipped presets ({exc})") from exc
    presets, errors = _parse(text, label)
    errors += _name_clashes(presets, presets, label, _Locator(text))
    if errors:
        raise errors[0]
    return presets


def _read_user_file(path: Path, label: str) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read the file ({exc.strerror or exc})") from exc


def _name_clashes(
    merged: dict[str, Preset], checked: dict[str, Preset], label: str, locator: _Locator
) -> list[ConfigError]:
    """Errors for presets in ``checked`` whose name would make a lookup ambiguous."""
    errors: list[ConfigError] = []
    reported: set[frozenset[str]] = set()
    for key, preset in checked.items():
        folded = preset.name.casefold()
        for other_key, other in merged.items():
            pair = frozenset((key, other_key))
            if other_key == key or pair in reported:
                continue
            if other.name.casefold() == folded:
                clash = f'name "{preset.name}" is already used by preset [{other_key}]'
            elif other_key == folded:
                clash = f'name "{preset.name}" is the key of another preset [{other_key}]'
            else:
                continue
            reported.add(pair)  # two clashing presets of one file: report it once
            errors.append(_error(label, locator.key_line(key, "name"), key, clash))
    return errors


# --- parsing and validation -------------------------------------------------------------


def _parse(text: str, label: str) -> tuple[dict[str, Preset], list[ConfigError]]:
    """Presets of one file, in file order, and every problem found in it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason, line = syntax_error_position(str(exc), text)
        return {}, [_error(label, line, None, f"TOML syntax error: {reason}")]
    locator = _Locator(text)
    presets: dict[str, Preset] = {}
    errors: list[ConfigError] = []
    for raw_key, table in data.items():
        key = raw_key.casefold()
        line = locator.table_line(raw_key)
        if not isinstance(table, dict):
            errors.append(_error(label, line, raw_key, f"must be a table like [{raw_key}], "
                                 f"not a {_toml_type(table)}"))
        elif not _KEY_RE.fullmatch(raw_key):
            errors.append(_error(label, line, raw_key, 'preset key must use only letters, '
                                 'digits, "_" and "-"'))
        elif key in presets:
            errors.append(_error(label, line, raw_key, f"duplicates [{key}] "
                                 "(preset keys ignore case)"))
        else:
            preset, problems = _build(key, raw_key, table, label, locator)
            errors += problems
            if preset is not None:
                presets[key] = preset
    return presets, errors


def _build(
    key: str, raw_key: str, table: dict[str, Any], label: str, locator: _Locator
) -> tuple[Preset | None, list[ConfigError]]:
    problems: list[ConfigError] = []

    def fail(field: str | None, message: str) -> None:
        line = locator.key_line(raw_key, field) if field else locator.table_line(raw_key)
        problems.append(_error(label, line, raw_key, message))

    for field in table:
        if field not in _FIELDS:
            fail(field, _unknown_field_message(field))
    for field in _REQUIRED:
        if field not in table:
            fail(None, f'missing required key "{field}"')

    name = table.get("name", "")
    if "name" in table and (not isinstance(name, str) or not name.strip()):
        fail("name", f'"name" must be a non-empty string, not {show_value(name)}')
    host = table.get("host", "")
    if "host" in table:
        host_problem = _host_problem(host)
        if host_problem:
            fail("host", host_problem)
    port = table.get("port", 0)
    if "port" in table:
        if not isinstance(port, int) or isinstance(port, bool):
            fail("port", f'"port" must be an integer, not {show_value(port)}')
        elif not 1 <= port <= 65535:
            fail("port", f'"port" must be between 1 and 65535, not {port}')
    security = table.get("security", "")
    if "security" in table and security not in SECURITY_VALUES:
        fail("security", _security_message(security))
    roles = table.get("roles", list(ROLES))
    if not (isinstance(roles, list) and roles and all(r in ROLES for r in roles)):
        fail("roles", f'"roles" must be a non-empty list of "source", "destination", '
                      f"not {show_value(roles)}")
    note = table.get("note", "")
    if not isinstance(note, str):
        fail("note", f'"note" must be a string, not {show_value(note)}')
    max_connections = table.get("max_connections")
    if max_connections is not None and (
        not isinstance(max_connections, int) or isinstance(max_connections, bool)
        or max_connections < 1
    ):
        fail("max_connections", f'"max_connections" must be a positive integer, '
                                f"not {show_value(max_connections)}")
    max_message_mb = table.get("max_message_mb")
    if max_message_mb is not None and (
        not isinstance(max_message_mb, int) or isinstance(max_message_mb, bool)
        or max_message_mb < 1
    ):
        fail("max_message_mb", f'"max_message_mb" must be a positive integer, '
                               f"not {show_value(max_message_mb)}")
    verified = table.get("verified", False)
    if not isinstance(verified, bool):
        fail("verified", f'"verified" must be true or false, not {show_value(verified)}')
    source_url = table.get("source_url", "")
    if not isinstance(source_url, str):
        fail("source_url", f'"source_url" must be a string, not {show_value(source_url)}')
    auth = table.get("auth", ["password"])
    if problem := _list_problem("auth", auth, AUTH_VALUES, empty=False):
        fail("auth", problem)
    needs = table.get("needs", [])
    if problem := _list_problem("needs", needs, tuple(NEEDS), empty=True):
        fail("needs", problem)

    if problems:
        return None, problems
    return Preset(
        key=key, name=name.strip(), host=host.strip(), port=port, security=security,
        roles=tuple(dict.fromkeys(roles)), note=note.strip(), max_connections=max_connections,
        max_message_mb=max_message_mb, verified=verified, source_url=source_url.strip(),
        auth=tuple(auth), needs=tuple(needs),
    ), []


def _list_problem(key: str, value: object, allowed: tuple[str, ...], *, empty: bool) -> str:
    """What is wrong with a list of words from ``allowed`` ("" when nothing)."""
    words = ", ".join(f'"{v}"' for v in allowed)
    kind = "a list" if empty else "a non-empty list"
    if not isinstance(value, list) or (not value and not empty):
        return f'"{key}" must be {kind} of {words}, not {show_value(value)}'
    for item in value:
        if item not in allowed:
            close = difflib.get_close_matches(str(item), allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            return f'"{key}" must be {kind} of {words}, not {show_value(item)}{hint}'
    if len(set(value)) != len(value):
        return f'"{key}" lists a value twice'
    return ""


def _host_problem(host: object) -> str:
    if not isinstance(host, str):
        return f'"host" must be a string ("" if the user types it), not {show_value(host)}'
    value = host.strip()
    if "://" in value:
        return f'"host" must be a bare server name such as imap.example.org, not "{host}"'
    if any(ch.isspace() for ch in value):
        return f'"host" must not contain spaces: "{host}"'
    if ":" in value:
        try:
            ipaddress.IPv6Address(value.strip("[]"))
        except ValueError:
            return f'"host" must not include a port ("{host}"): put it in "port"'
    return ""


def _security_message(value: object) -> str:
    allowed = ", ".join(f'"{v}"' for v in SECURITY_VALUES)
    hint = _SECURITY_HINTS.get(value.casefold()) if isinstance(value, str) else None
    suggestion = f' (did you mean "{hint}"?)' if hint else ""
    return f'"security" must be one of {allowed}, not {show_value(value)}{suggestion}'


def _unknown_field_message(field: str) -> str:
    expected = ", ".join(sorted(_FIELDS))
    close = difflib.get_close_matches(field, _FIELDS, n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f'unknown key "{field}" ({hint}expected one of: {expected})'


# --- messages and positions -------------------------------------------------------------


def _error(label: str, line: int | None, table: str | None, message: str) -> ConfigError:
    where = f"{label}, line {line}" if line else label
    what = f"[{table}] {message}" if table else message
    return ConfigError(f"{where}: {what}")


def show_value(value: object) -> str:
    """A value as the user wrote it in TOML terms, for messages."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return f"a {_toml_type(value)}"


def _toml_type(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "list",
             dict: "table"}
    return names.get(type(value), type(value).__name__)


def syntax_error_position(message: str, text: str) -> tuple[str, int | None]:
    """Split tomllib's "reason (at line L, column C)" into the reason and L."""
    match = re.search(r"\s*\(at line (\d+), column \d+\)\s*$", message)
    if match:
        return message[: match.start()], int(match.group(1))
    match = re.search(r"\s*\(at end of document\)\s*$", message)
    if match:
        return message[: match.start()], max(1, len(text.splitlines()))
    return message, None


def display_path(path: str) -> str:
    """``path`` with the home directory shown as ``~``, as users write it."""
    home = str(Path.home())
    if home not in ("", os.sep) and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home):]
    return path


class _Locator:
    """Best-effort line numbers for tables and keys, by scanning the TOML text.

    tomllib gives no positions for valid documents, so this looks for ``[table]`` headers
    and ``key =`` lines; it may miss exotic layouts (dotted keys, keys inside multi-line
    strings), in which case messages simply go without a line.
    """

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def table_line(self, table: str) -> int | None:
        header = re.compile(rf"^\s*\[\s*{_key_pattern(table)}\s*\]")
        inline = re.compile(rf"^\s*{_key_pattern(table)}\s*=")
        for pattern in (header, inline):
            for number, line in enumerate(self._lines, start=1):
                if pattern.match(line):
                    return number
        return None

    def key_line(self, table: str, key: str) -> int | None:
        start = self.table_line(table)
        assignment = re.compile(rf"^\s*{_key_pattern(key)}\s*=")
        if start is not None:
            for number in range(start + 1, len(self._lines) + 1):
                line = self._lines[number - 1]
                if re.match(r"^\s*\[", line):
                    break
                if assignment.match(line):
                    return number
        dotted = re.compile(rf"^\s*{_key_pattern(table)}\s*\.\s*{_key_pattern(key)}\s*=")
        for number, line in enumerate(self._lines, start=1):
            if dotted.match(line):
                return number
        return start


def _key_pattern(key: str) -> str:
    escaped = re.escape(key)
    return rf"(?:{escaped}|\"{escaped}\"|'{escaped}')"
