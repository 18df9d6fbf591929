"""Folders: listing them with their namespace, and mapping names from one server to another.

A folder name is split into *parts* relative to the account's personal namespace, so that
``INBOX.Archive.2019`` (separator ``.``, prefix ``INBOX.``) and ``Archive/2019`` (separator
``/``, no prefix) are the same folder, ``("Archive", "2019")``.  INBOX is always
``("INBOX",)``, whatever its case on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imapcopy_tui.engine.session import ImapSession, RawFolder

INBOX = "INBOX"
# A part that contains the other server's separator cannot keep it: that character would
# split the folder in two.  It becomes this one instead (and the plan says so).
SEPARATOR_STAND_IN = "_"


@dataclass(frozen=True)
class Namespace:
    """The personal namespace of an account: prefix and hierarchy separator.

    ``foreign_prefixes`` are the other users' and shared namespaces, whose folders LIST may
    show but which are not this account's own mail.
    """

    prefix: str
    separator: str
    foreign_prefixes: tuple[str, ...] = ()

    @classmethod
    def discover(cls, session: ImapSession, folders: list[RawFolder]) -> Namespace:
        """Ask NAMESPACE; without it, take the separator LIST reports and no prefix."""
        found, foreign = session.namespaces()
        separator = next((f.delimiter for f in folders if f.delimiter), None)
        if found is not None:
            prefix, ns_separator = found
            return cls(prefix, ns_separator or separator or "/", foreign)
        return cls("", separator or "/", foreign)

    def owns(self, name: str) -> bool:
        """Whether ``name`` is in the personal namespace (not another user's, not shared)."""
        return name.upper() == INBOX or not any(name.startswith(p) for p in self.foreign_prefixes)

    def parts(self, name: str) -> tuple[str, ...]:
        """Split a server name into parts relative to this namespace."""
        if name.upper() == INBOX:
            return (INBOX,)
        relative = name
        if self.prefix and name.startswith(self.prefix):
            relative = name[len(self.prefix) :]
        elif self.prefix and name.upper().startswith(self.prefix.upper()):
            relative = name[len(self.prefix) :]
        pieces = tuple(relative.split(self.separator)) if self.separator else (relative,)
        if pieces and pieces[0].upper() == INBOX:
            pieces = (INBOX,) + pieces[1:]
        return pieces

    def name(self, parts: tuple[str, ...]) -> str:
        """Join parts into a server name of this namespace (the inverse of :meth:`parts`)."""
        if parts == (INBOX,) or (len(parts) == 1 and parts[0].upper() == INBOX):
            return INBOX
        clean = tuple(p.replace(self.separator, SEPARATOR_STAND_IN) for p in parts)
        prefix = self.prefix
        # With an "INBOX." prefix, INBOX's own children already live under it.
        if prefix and clean[0].upper() == INBOX and prefix.upper() == INBOX + self.separator:
            clean = clean[1:]
        return prefix + self.separator.join(clean)


@dataclass(frozen=True)
class Folder:
    """A source folder, where it goes on the destination, and whether it holds mail."""

    source_name: str
    parts: tuple[str, ...]
    destination_name: str
    selectable: bool
    special_use: frozenset[str]
    renamed_because: str = ""  # a clash forced a numbered name: why
    mapped_because: str = ""  # sent elsewhere on purpose (special folder, user's rule): why

    @property
    def display_name(self) -> str:
        """The name as a person reads it: parts joined with '/'."""
        return "/".join(self.parts)


_SPECIAL_USE = {"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"}


def is_selectable(folder: RawFolder) -> bool:
    flags = {f.lower() for f in folder.flags}
    return "\\noselect" not in flags and "\\nonexistent" not in flags


Rename = Callable[[tuple[str, ...]], tuple[tuple[str, ...], str]]


def plan_folders(
    source: list[RawFolder],
    source_ns: Namespace,
    destination_ns: Namespace,
    rename: Rename | None = None,
) -> list[Folder]:
    """Map every source folder to its destination name, INBOX first, parents before children.

    ``rename`` may send a folder elsewhere (special folders, the user's rules): it gets
    the source parts and returns the destination parts and why (empty: not renamed).

    Two source folders must never land in one destination folder (``a.b`` and ``a_b`` do,
    once a ``.`` is replaced; so do ``INBOX/Sub`` and ``Sub`` on an ``INBOX.`` server): the
    later one gets a numbered name, and says why.  Names are compared caselessly
    (``casefold``), since many servers are case-insensitive: ``Work`` and ``work`` would
    merge there.  A name whose separator was replaced says so too.
    """
    candidates = []
    for raw in source:
        if "\\nonexistent" in {f.lower() for f in raw.flags} or not source_ns.owns(raw.name):
            continue
        parts = source_ns.parts(raw.name)
        if not any(parts):  # the namespace prefix itself, listed by some servers
            continue
        candidates.append((raw, parts))
    candidates.sort(key=lambda c: (c[1] != (INBOX,), c[1], c[0].name))
    targets = [rename(parts) if rename else (parts, "") for _, parts in candidates]
    # Names are given out deliberate targets first (the user's rules, special folders),
    # so that a plain folder never pushes Sent out of the destination's Sent folder; two
    # deliberate targets of one folder share it (a merge the user or the mapping asked for).
    order = sorted(range(len(candidates)), key=lambda i: not targets[i][1])
    taken: set[str] = set()
    deliberate: dict[str, str] = {}  # casefolded destination name -> first source name
    decided: dict[int, tuple[str, str]] = {}  # index -> (destination name, why renamed)
    moved: dict[tuple[str, ...], tuple[str, ...]] = {}  # numbered parents: children follow
    for index in order:
        raw, source_parts = candidates[index]
        parts, mapped_because = targets[index]
        why = ""
        parent = next(
            (source_parts[:n] for n in range(len(source_parts) - 1, 0, -1)
             if source_parts[:n] in moved),
            None,
        )
        if parent is not None and not mapped_because:
            parts = moved[parent] + source_parts[len(parent) :]
            why = f"its parent folder was renamed to {destination_ns.name(moved[parent])!r}"
        name = destination_ns.name(parts)
        if name.casefold() in taken and mapped_because and name.casefold() in deliberate:
            why = f"merged with {deliberate[name.casefold()]!r}, which also goes there"
        elif name.casefold() in taken:
            number = 2
            while destination_ns.name(parts[:-1] + (f"{parts[-1]}_{number}",)).casefold() in taken:
                number += 1
            why = f"another source folder already maps to {name!r}"
            parts = parts[:-1] + (f"{parts[-1]}_{number}",)
            name = destination_ns.name(parts)
            moved[source_parts] = parts
        elif not why and any(destination_ns.separator in part for part in parts):
            why = (
                f"{destination_ns.separator!r} separates folders on the destination, so it "
                f"became {SEPARATOR_STAND_IN!r}"
            )
        taken.add(name.casefold())
        if mapped_because:
            deliberate.setdefault(name.casefold(), raw.name)
        decided[index] = (name, why)
    planned: list[Folder] = []
    for index, (raw, source_parts) in enumerate(candidates):
        name, why = decided[index]
        planned.append(
            Folder(
                source_name=raw.name,
                parts=source_parts,
                destination_name=name,
                selectable=is_selectable(raw),
                special_use=frozenset(f for f in raw.flags if f in _SPECIAL_USE),
                renamed_because=why,
                mapped_because=targets[index][1],
            )
        )
    return planned
