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

from imapcopy_tui.engine.folders import INBOX, Namespace, is_selectable
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
RULE_REASON = "your rename rule"


def _folded(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


_BY_NAME = {_folded(n): role for role, names in LOCALISED_NAMES.items() for n in names}


class GmailViews(StrEnum):
    """What to do with Gmail's All Mail (the other views are always skipped)."""

    SKIP = "skip"  # copy the label folders only (the default)
    INSTEAD = "instead"  # copy All Mail, skip the label folders
    UNLABELLED = "unlabelled"  # the label folders, and from All Mail what no label holds


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
        named = role_by_name(parts)
        if named is not None and named not in found:
            found[named] = SpecialFolder(parts, named, False)
    return found


def role_by_name(parts: tuple[str, ...]) -> str | None:
    """The role a folder's name gives it on a server without SPECIAL-USE, if any: only
    at the top level, under Gmail's ``[Gmail]``, or under INBOX on Courier-style servers."""
    if len(parts) == 2 and parts[0] in GMAIL_PARENTS:
        leaf = parts[1]
    elif len(parts) == 1 and parts != (INBOX,):
        leaf = parts[0]
    elif len(parts) == 2 and parts[0] == INBOX:  # INBOX.Sent on Courier-style servers
        leaf = parts[1]
    else:
        return None
    return _BY_NAME.get(_folded(leaf))


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
    all_mail: tuple[str, ...] | None = None  # Gmail's All Mail, when it goes to the archive
    archive: tuple[str, ...] = ("Archive",)
    reasons: dict[str, str] = field(default_factory=dict)  # by role, when not the usual

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
        mapping = cls(rules, gmail_source=gmail)
        if rules.special:
            mapping.source_special = special_folders(source, source_ns)
            mapping.destination_special = special_folders(destination, destination_ns)
        if gmail and rules.gmail_all_mail is GmailViews.UNLABELLED:
            views = gmail_views(source, source_ns)
            found = [
                source_ns.parts(f.name)
                for f in source
                if f.name in views and is_all_mail(f, source_ns)
            ]
            mapping.all_mail = found[0] if found else None
            archive = mapping.destination_special.get("\\Archive")
            mapping.archive = archive.parts if archive else ("Archive",)
        return mapping

    def keep_earlier_target(self, role: str, parts: tuple[str, ...], shown: str) -> bool:
        """Send ``role``'s source folder to ``parts``, where earlier runs copied it, rather
        than to the folder the name search picks now; ``shown`` is that folder's name.

        Without SPECIAL-USE the first matching name in sorted order wins, so a folder
        created since ("Sent" besides the "Sent Items" used so far) would take the role,
        and everything would be copied again into it.  Only a folder that still bears a
        name of the role, when the role was found by name: an attribute is the server's
        own word and wins.  Returns whether the mapping changed.
        """
        current = self.destination_special.get(role)
        if current is None or current.by_attribute or current.parts == parts:
            return False
        if role_by_name(parts) != role:
            return False
        self.destination_special[role] = SpecialFolder(parts, role, False)
        self.reasons[role] = (
            f"the destination's {ROLE_NAMES[role]} folder, as on earlier runs "
            f"({shown!r} also looks like one)"
        )
        return True

    def __call__(self, parts: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        folded = tuple(p.casefold() for p in parts)
        # The most specific rule wins: "A/B=Y" over "A=X" for A/B and below.
        for source, destination in sorted(self.rules.renames, key=lambda r: -r[0].count("/")):
            rule = tuple(p.casefold() for p in source.split("/"))
            if folded[: len(rule)] == rule:
                return tuple(destination.split("/")) + parts[len(rule) :], RULE_REASON
        if self.all_mail and parts[: len(self.all_mail)] == self.all_mail:
            return self.archive, "Gmail's archived mail: what no label folder holds"
        for role, special in self.source_special.items():
            root = special.parts
            if parts[: len(root)] != root:
                continue
            target = self.destination_special.get(role)
            if target is not None:
                new = target.parts + parts[len(root) :]
                reason = self.reasons.get(role, f"the destination's {ROLE_NAMES[role]} folder")
            elif root[0] in GMAIL_PARENTS:
                new = root[1:] + parts[len(root) :]  # no "[Gmail]" level on other servers
                reason = f"Gmail's {ROLE_NAMES[role]} folder"
            else:
                return parts, ""
            return (new, reason) if new != parts else (parts, "")
        if self.gmail_source and parts[0] in GMAIL_PARENTS and len(parts) > 1:
            return parts[1:], "Gmail's own folder, without the [Gmail] level"
        return parts, ""


GMAIL_ROOTS = {(parent,) for parent in GMAIL_PARENTS}


def is_all_mail(folder: RawFolder, ns: Namespace) -> bool:
    named = ns.parts(folder.name)[-1].casefold() in {"all mail", "alle nachrichten"}
    return "\\all" in {f.lower() for f in folder.flags} or named


@dataclass(frozen=True)
class GmailChoice:
    kept: list[RawFolder]
    skipped: list[tuple[str, str]]  # (source name, why)
    unlabelled_only: frozenset[str] = frozenset()  # All Mail, to copy minus labelled mail


def choose_gmail_folders(
    folders: Sequence[RawFolder], ns: Namespace, all_mail: GmailViews
) -> GmailChoice:
    """Which folders of a Gmail source to copy: each message once.

    Not Gmail (no views): everything.  Else the ``[Gmail]`` level itself never (it only
    holds Gmail's folders, which go elsewhere), and by ``all_mail``: the label folders and
    no view; All Mail (and Trash and Spam, which it does not hold) instead of the labels;
    or the labels plus, from All Mail, the messages no label folder holds.
    """
    views = gmail_views(folders, ns)
    if not views:
        return GmailChoice(list(folders), [])
    folders = [f for f in folders if ns.parts(f.name) not in GMAIL_ROOTS]
    all_mail_names = {f.name for f in folders if f.name in views and is_all_mail(f, ns)}
    unlabelled: frozenset[str] = frozenset()
    if all_mail is GmailViews.INSTEAD and all_mail_names:
        kept = [
            f
            for f in folders
            if f.name in all_mail_names
            or {"\\trash", "\\junk"} & {x.lower() for x in f.flags}
            or not is_selectable(f)
        ]
        why = "All Mail is copied instead of the label folders (your choice)"
    elif all_mail is GmailViews.UNLABELLED and all_mail_names:
        kept = [f for f in folders if f.name not in views or f.name in all_mail_names]
        unlabelled = frozenset(all_mail_names)
        why = "a Gmail view of mail that the label folders hold already"
    else:
        kept = [f for f in folders if f.name not in views]
        why = "a Gmail view of mail that the label folders hold already"
    skipped = [(f.name, why) for f in folders if f not in kept]
    if all_mail is GmailViews.SKIP:
        skipped = [
            (name, f"{reason}; its messages without any label are not copied either "
             "(--gmail-all-mail unlabelled copies them)" if name in all_mail_names else reason)
            for name, reason in skipped
        ]
    return GmailChoice(kept, skipped, unlabelled)
