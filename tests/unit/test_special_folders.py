"""Special-folder mapping decided on folder lists alone (the servers' side is in
tests/integration/test_providers.py)."""

from __future__ import annotations

from imapcopy_tui.engine.folders import Namespace, plan_folders
from imapcopy_tui.engine.session import RawFolder
from imapcopy_tui.engine.special import FolderMapping, GmailViews, MappingRules

SLASH = Namespace("", "/")
EXCHANGE = [
    RawFolder("INBOX", "/", frozenset()),
    RawFolder("Sent Items", "/", frozenset({"\\Sent"})),
    RawFolder("Deleted Items", "/", frozenset({"\\Trash"})),
]


def plan(source: list[RawFolder], rules: MappingRules | None = None,
         destination: list[RawFolder] = EXCHANGE) -> dict[str, tuple[str, str, str]]:
    mapping = FolderMapping.build(rules or MappingRules(), source, SLASH, destination, SLASH)
    return {
        f.source_name: (f.destination_name, f.mapped_because, f.renamed_because)
        for f in plan_folders(source, SLASH, SLASH, mapping)
    }


def folder(name: str, *flags: str) -> RawFolder:
    return RawFolder(name, "/", frozenset(flags))


def test_the_real_sent_folder_wins_over_a_plain_folder_of_that_name() -> None:
    """The source's Sent (by attribute) goes to the destination's Sent Items; a plain
    folder that happens to be called "Sent Items" gets a numbered name, not the reverse."""
    planned = plan([folder("INBOX"), folder("Sent Items"), folder("Éléments envoyés", "\\Sent")])
    assert planned["Éléments envoyés"] == ("Sent Items", "the destination's Sent folder", "")
    assert planned["Sent Items"] == (
        "Sent Items_2", "", "another source folder already maps to 'Sent Items'"
    )


def test_a_rule_onto_the_special_folder_merges_instead_of_moving_sent() -> None:
    """A rule added on a later run that sends another folder into Sent Items must not
    push Sent elsewhere (which would copy it a second time): both go there."""
    rules = MappingRules(renames=(MappingRules.parse_rename("old sent=Sent Items"),))
    planned = plan([folder("INBOX"), folder("Sent", "\\Sent"), folder("Old Sent")], rules)
    assert planned["Sent"][0] == "Sent Items"
    assert planned["Old Sent"][:2] == ("Sent Items", "your rename rule")
    merged = [why for _, _, why in planned.values() if why.startswith("merged with")]
    assert len(merged) == 1


def test_the_most_specific_rule_wins_and_rules_ignore_case() -> None:
    rules = MappingRules(renames=(("Projects", "Work"), ("projects/old", "Archive/Old")))
    planned = plan([folder("INBOX"), folder("Projects"), folder("Projects/Old"),
                    folder("Projects/Old/2019"), folder("Projects/New")], rules, [])
    assert planned["Projects"][0] == "Work"
    assert planned["Projects/New"][0] == "Work/New"
    assert planned["Projects/Old"][0] == "Archive/Old"
    assert planned["Projects/Old/2019"][0] == "Archive/Old/2019"


def test_unlabelled_uses_gmails_all_mail_not_a_label_of_that_name() -> None:
    """A user label "Projects/All Mail" listed before [Gmail]/All Mail is a label."""
    source = [
        folder("INBOX"), folder("Projects/All Mail"), folder("[Gmail]", "\\Noselect"),
        folder("[Gmail]/All Mail", "\\All"), folder("[Gmail]/Sent Mail", "\\Sent"),
    ]
    planned = plan(source, MappingRules(gmail_all_mail=GmailViews.UNLABELLED), [])
    assert planned["[Gmail]/All Mail"][0] == "Archive"
    assert planned["Projects/All Mail"][0] == "Projects/All Mail"


def test_children_follow_a_parent_that_had_to_be_renamed() -> None:
    """``a.b`` and ``a_b`` both become ``a_b`` on a "." server: the second is numbered, and
    its subfolder goes with it instead of landing under the other one."""
    dot = Namespace("INBOX.", ".")
    source = [folder("INBOX"), folder("a.b"), folder("a_b"), folder("a_b/c")]
    planned = {f.source_name: f.destination_name for f in plan_folders(source, SLASH, dot)}
    assert planned == {
        "INBOX": "INBOX", "a.b": "INBOX.a_b", "a_b": "INBOX.a_b_2", "a_b/c": "INBOX.a_b_2.c",
    }


def test_a_role_found_by_name_can_keep_its_earlier_folder_but_not_an_attribute() -> None:
    """Without SPECIAL-USE "Sent" (sorted first) would take the role from the "Sent Items"
    used so far: the earlier one is kept, its subfolders with it.  A folder not named for
    the role is not taken; a role the server marks by attribute stays the server's."""
    source = [folder("INBOX"), folder("Envoyés"), folder("Envoyés/2019")]
    by_name = [folder("INBOX"), folder("Sent"), folder("Sent Items"), folder("Factures")]
    mapping = FolderMapping.build(MappingRules(), source, SLASH, by_name, SLASH)
    assert mapping(("Envoyés",))[0] == ("Sent",)
    assert not mapping.keep_earlier_target("\\Sent", ("Factures",), "Sent")
    assert not mapping.keep_earlier_target("\\Sent", ("Sent",), "Sent")  # already there
    assert mapping.keep_earlier_target("\\Sent", ("Sent Items",), "Sent")
    assert mapping(("Envoyés", "2019")) == (
        ("Sent Items", "2019"),
        "the destination's Sent folder, as on earlier runs ('Sent' also looks like one)",
    )
    marked = [folder("INBOX"), folder("Sent", "\\Sent"), folder("Sent Items")]
    mapping = FolderMapping.build(MappingRules(), source, SLASH, marked, SLASH)
    assert not mapping.keep_earlier_target("\\Sent", ("Sent Items",), "Sent")
    assert mapping(("Envoyés",))[0] == ("Sent",)
