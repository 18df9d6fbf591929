"""Folder name mapping between namespaces and separators."""

from __future__ import annotations

from imapcopy_tui.engine.folders import Namespace, plan_folders
from imapcopy_tui.engine.session import RawFolder

DOT = Namespace(prefix="INBOX.", separator=".")
SLASH = Namespace(prefix="", separator="/")


def test_dot_prefix_maps_to_slash_without_prefix() -> None:
    """INBOX.Archive.2019 on a '.'/'INBOX.' server is Archive/2019 on a '/' server."""
    assert SLASH.name(DOT.parts("INBOX.Archive.2019")) == "Archive/2019"


def test_slash_maps_to_dot_prefix() -> None:
    """And the other way round."""
    assert DOT.name(SLASH.parts("Archive/2019")) == "INBOX.Archive.2019"


def test_inbox_maps_to_inbox_whatever_its_case() -> None:
    """INBOX is INBOX on both sides, even spelled 'Inbox' by the source."""
    assert SLASH.parts("Inbox") == ("INBOX",)
    assert DOT.name(("INBOX",)) == "INBOX"
    assert SLASH.name(DOT.parts("INBOX")) == "INBOX"


def test_children_of_inbox_do_not_double_the_prefix() -> None:
    """INBOX/sub on a '/' server is INBOX.sub, not INBOX.INBOX.sub."""
    assert DOT.name(SLASH.parts("INBOX/sub")) == "INBOX.sub"


def test_unicode_names_survive() -> None:
    """Non-ASCII names keep their Unicode form through the mapping."""
    assert SLASH.name(DOT.parts("INBOX.Données.Отчёты")) == "Données/Отчёты"


def test_other_separator_inside_a_name_is_replaced() -> None:
    """A '.' inside a name cannot stay on a '.' server: it would split the folder."""
    assert DOT.name(SLASH.parts("v1.2/notes")) == "INBOX.v1_2.notes"


def test_plan_orders_inbox_first_and_parents_before_children() -> None:
    """The plan creates parents first and skips \\NonExistent entries."""
    raw = [
        RawFolder("Archive/2019", "/", frozenset()),
        RawFolder("Archive", "/", frozenset({"\\HasChildren"})),
        RawFolder("INBOX", "/", frozenset()),
        RawFolder("Ghost", "/", frozenset({"\\NonExistent"})),
        RawFolder("Parent", "/", frozenset({"\\Noselect"})),
    ]
    plan = plan_folders(raw, SLASH, DOT)
    assert [f.destination_name for f in plan] == [
        "INBOX", "INBOX.Archive", "INBOX.Archive.2019", "INBOX.Parent"
    ]
    assert [f.selectable for f in plan] == [True, True, True, False]


def test_two_source_folders_never_share_a_destination_folder() -> None:
    """'a.b' and 'a_b' (after the '.' is replaced), or INBOX/Sub and Sub on an INBOX.
    server, would merge into one folder: the later one gets a numbered name and a reason
    (and 'a.b' says its '.' was replaced)."""
    raw = [
        RawFolder("INBOX", "/", frozenset()),
        RawFolder("a.b", "/", frozenset()),
        RawFolder("a_b", "/", frozenset()),
        RawFolder("INBOX/Sub", "/", frozenset()),
        RawFolder("Sub", "/", frozenset()),
    ]
    plan = plan_folders(raw, SLASH, DOT)
    names = [f.destination_name for f in plan]
    assert len(names) == len(set(names)) == 5
    assert {f.source_name: f.destination_name for f in plan} == {
        "INBOX": "INBOX",
        "INBOX/Sub": "INBOX.Sub",
        "Sub": "INBOX.Sub_2",
        "a.b": "INBOX.a_b",
        "a_b": "INBOX.a_b_2",
    }
    reasons = {f.source_name: f.renamed_because for f in plan if f.renamed_because}
    assert sorted(reasons) == ["Sub", "a.b", "a_b"]
    assert "separates folders" in reasons["a.b"] and "already maps" in reasons["a_b"]


def test_other_users_and_shared_folders_are_not_copied() -> None:
    """Folders under another namespace's prefix are not the account's own mail."""
    ns = Namespace(prefix="", separator="/", foreign_prefixes=("shared/", "Other Users/"))
    raw = [
        RawFolder("INBOX", "/", frozenset()),
        RawFolder("shared/team", "/", frozenset()),
        RawFolder("Other Users/bob", "/", frozenset()),
        RawFolder("Work", "/", frozenset()),
    ]
    assert [f.source_name for f in plan_folders(raw, ns, SLASH)] == ["INBOX", "Work"]
