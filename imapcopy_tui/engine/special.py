"""Special folders: Sent lands in the destination's Sent, whatever each server calls it.

Each side's Sent, Drafts, Trash, Junk and Archive folders are found by their SPECIAL-USE
attribute (RFC 6154) or, on a server without it, by a table of the names clients and
providers use in common languages.  A source special folder (and its subfolders) goes into
the destination's folder of the same use when the destination has one; otherwise the
plain name mapping applies.

Gmail shows every message once per label, and again in its views: ``[Gmail]/All Mail``
(``\\All``), ``Important`` and ``Starred`` (``\\Flagged``).  Copying those would copy mail
twice, so they are skipped by default (:class:`GmailViews`).

The user has the last word: rename rules (``"Old Sent=Sent"``, applied to subfolders too)
win over the automatic mapping, and the mapping can be turned off.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from imapcopy_tui.engine.folders import INBOX, Namespace
from imapcopy_tui.engine.session import RawFolder

ROLES = ("\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive")
ROLE_NAMES = {
    "\\Sent": "Sent",
    "\\Drafts": "Drafts",
    "\\Trash": "Trash",
    "\\Junk": "Junk",
    "\\Archive": "Archive",
}
# Gmail's views: the same messages as the label folders, shown again.
VIEW_ROLES = ("\\All", "\\Important", "\\Flagged")

# Names used without SPECIAL-USE, compared case- and accent-insensitively.
LOCALISED_NAMES: dict[str, tuple[str, ...]] = {
    "\\Sent": (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "Sent Mails",
        "Outbox sent",
        "Envoyés",
        "Éléments envoyés",
        "Messages envoyés",
        "Envoyé",
        "Gesendet",
        "Gesendete Objekte",
        "Gesendete Elemente",
        "Gesendete Nachrichten",
        "Enviados",
        "Elementos enviados",
        "Mensajes enviados",
        "Itens enviados",
        "Inviata",
        "Posta inviata",
        "Inviati",
        "Elementi inviati",
        "Verzonden",
        "Verzonden items",
        "Lähetetyt",
        "Lähetetyt kohteet",
        "Išsiųsti",
        "Skickat",
        "Skickade objekt",
        "Sendt",
        "Sendte elementer",
        "Wysłane",
        "Elementy wysłane",
        "Odeslané",
        "Отправленные",
    ),
    "\\Drafts": (
        "Drafts",
        "Draft",
        "Brouillons",
        "Entwürfe",
        "Borradores",
        "Rascunhos",
        "Bozze",
        "Concepten",
        "Luonnokset",
        "Juodraščiai",
        "Utkast",
        "Kladder",
        "Kopie robocze",
        "Koncepty",
        "Черновики",
    ),
    "\\Trash": (
        "Trash",
        "Deleted Items",
        "Deleted Messages",
        "Deleted",
        "Bin",
        "Corbeille",
        "Éléments supprimés",
        "Papierkorb",
        "Gelöschte Objekte",
        "Gelöschte Elemente",
        "Papelera",
        "Elementos eliminados",
        "Lixeira",
        "Lixo",
        "Cestino",
        "Posta eliminata",
        "Prullenbak",
        "Verwijderde items",
        "Roskakori",
        "Poistetut",
        "Šiukšlinė",
        "Papperskorgen",
        "Slettet",
        "Kosz",
        "Koš",
        "Корзина",
    ),
    "\\Junk": (
        "Junk",
        "Junk E-mail",
        "Junk Email",
        "Junk Mail",
        "Spam",
        "Bulk Mail",
        "Courrier indésirable",
        "Indésirables",
        "Pourriel",
        "Junk-E-Mail",
        "Unerwünscht",
        "Correo no deseado",
        "Lixo eletrônico",
        "Posta indesiderata",
        "Ongewenste e-mail",
        "Roskaposti",
        "Šlamštas",
        "Skräppost",
        "Søppelpost",
        "Wiadomości-śmieci",
        "Спам",
    ),
    "\\Archive": (
        "Archive",
        "Archives",
        "Archiv",
        "Archivo",
        "Arquivo",
        "Archivio",
        "Archief",
        "Arkisto",
        "Archyvas",
        "Arkiv",
        "Archiwum",
        "Архив",
    ),
}
GMAIL_PARENTS = ("[Gmail]", "[Google Mail]")


def _folded(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


_BY_NAME = {_folded(n): role for role, names in LOCALISED_NAMES.items() for n in names}


class GmailViews(StrEnum):
    """What to do with Gmail's All Mail (the other views are always skipped)."""

    SKIP = "skip"  # copy the label folders only (the default)
    INSTEAD = "instead"  # copy All Mail, skip the label folders


@dataclass(frozen=True)
class MappingRules:
    """The user's say in the mapping."""

    special: bool = True  # map special folders by use
    renames: tuple[tuple[str, str], ...] = ()  # ("Old Sent", "Sent"): source -> destination
    gmail_all_mail: GmailViews = GmailViews.SKIP

    @staticmethod
    def parse_rename(text: str) -> tuple[str, str]:
        """``"Source name=Destination name"`` (names as shown, parts joined with '/')."""
        source, sep, destination = text.partition("=")
        source, destination = source.strip().strip("/"), destination.strip().strip("/")
        if not sep or not source or not destination:
            raise ValueError(f'a rename rule is "source folder=destination folder", not {text!r}')
        return source, destination


@dataclass(frozen=True)
class SpecialFolder:
    parts: tuple[str, ...]
    role: str
    by_attribute: bool


def special_folders(folders: Sequence[RawFolder], ns: Namespace) -> dict[str, SpecialFolder]:
    """Each role's folder on one side: by SPECIAL-USE attribute, else by a known name.

    A name only counts at the top level (or under Gmail's ``[Gmail]``), and only for a
    role no folder announces by attribute.
    """
    found: dict[str, SpecialFolder] = {}
    for raw in folders:
        for role in ROLES:
            if role.lower() in {f.lower() for f in raw.flags} and role not in found:
                found[role] = SpecialFolder(ns.parts(raw.name), role, True)
    for raw in sorted(folders, key=lambda f: f.name):
        parts = ns.parts(raw.name)
        if len(parts) == 2 and parts[0] in GMAIL_PARENTS:
            leaf = parts[1]
        elif len(parts) == 1 and parts != (INBOX,):
            leaf = parts[0]
        elif len(parts) == 2 and parts[0] == INBOX:  # INBOX.Sent on Courier-style servers
            leaf = parts[1]
        else:
            continue
        named = _BY_NAME.get(_folded(leaf))
        if named is not None and named not in found:
            found[named] = SpecialFolder(parts, named, False)
    return found


def gmail_views(folders: Sequence[RawFolder], ns: Namespace) -> set[str]:
    """Source names of Gmail's views: folders marked ``\\All``/``\\Important``/``\\Flagged``,
    or named so under ``[Gmail]`` by a server without SPECIAL-USE."""
    views = set()
    for raw in folders:
        flags = {f.lower() for f in raw.flags}
        parts = ns.parts(raw.name)
        gmail_named = (
            len(parts) == 2
            and parts[0] in GMAIL_PARENTS
            and parts[1].casefold() in {"all mail", "important", "starred", "alle nachrichten"}
        )
        if gmail_named or any(role.lower() in flags for role in VIEW_ROLES):
            views.add(raw.name)
    return views


@dataclass
class FolderMapping:
    """Source parts -> destination parts, with the reason shown in the plan."""

    rules: MappingRules
    source_special: dict[str, SpecialFolder] = field(default_factory=dict)
    destination_special: dict[str, SpecialFolder] = field(default_factory=dict)
    gmail_source: bool = False

    @classmethod
    def build(
        cls,
        rules: MappingRules,
        source: Sequence[RawFolder],
        source_ns: Namespace,
        destination: Sequence[RawFolder],
        destination_ns: Namespace,
    ) -> FolderMapping:
        gmail = any(source_ns.parts(f.name)[0] in GMAIL_PARENTS for f in source)
        if not rules.special:
            return cls(rules, gmail_source=gmail)
        return cls(
            rules,
            special_folders(source, source_ns),
            special_folders(destination, destination_ns),
            gmail,
        )

    def __call__(self, parts: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        for source, destination in self.rules.renames:
            rule = tuple(source.split("/"))
            if parts[: len(rule)] == rule:
                return tuple(destination.split("/")) + parts[len(rule) :], "your rename rule"
        for role, special in self.source_special.items():
            root = special.parts
            if parts[: len(root)] != root:
                continue
            target = self.destination_special.get(role)
            if target is not None:
                new = target.parts + parts[len(root) :]
                reason = f"the destination's {ROLE_NAMES[role]} folder"
            elif root[0] in GMAIL_PARENTS:
                new = root[1:] + parts[len(root) :]  # no "[Gmail]" level on other servers
                reason = f"Gmail's {ROLE_NAMES[role]} folder"
            else:
                return parts, ""
            return (new, reason) if new != parts else (parts, "")
        if self.gmail_source and parts[0] in GMAIL_PARENTS and len(parts) > 1:
            return parts[1:], "Gmail's own folder, without the [Gmail] level"
        return parts, ""
