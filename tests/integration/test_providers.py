"""Providers' folder layouts: special folders by use, Gmail's labels and views.

Dovecot is set up to look like each family (see ``dovecot_exchange`` and ``dovecot_gmail``
in conftest): SPECIAL-USE folders named as on Exchange, Gmail's ``[Gmail]/...`` with its
views, and a French mailbox on a server without SPECIAL-USE.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from imapclient import IMAPClient

from imapcopy_tui.engine.special import GmailViews, MappingRules
from imapcopy_tui.storage.store import JobState
from tests.corpus import read_folder
from tests.dovecot import DovecotServer
from tests.helpers import account, is_report, new_store, sync

pytestmark = pytest.mark.dovecot
UNLABELLED_HINT = (
    "its messages without any label are not copied either "
    "(--gmail-all-mail unlabelled copies them)"
)


def message(subject: str, size: int = 200) -> bytes:
    return (
        f"From: Alice <alice@example.org>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n\r\n{'x' * size}\r\n"
    ).encode()


def fill(client: IMAPClient, folders: dict[str, list[bytes]]) -> None:
    existing = {n for *_, n in client.list_folders()}
    for name, messages in folders.items():
        if name not in existing and name != "INBOX":
            client.create_folder(name)
        for raw in messages:
            client.append(name, raw, ("\\Seen",))


def contents(server: DovecotServer, user: str) -> dict[str, list[bytes]]:
    """Every folder's message bytes, reports left out; empty folders included."""
    client = server.client(user)
    try:
        selectable = {
            name for flags, _, name in client.list_folders()
            if not {b"\\noselect", b"\\nonexistent"} & {f.lower() for f in flags}
        }
        return {
            name: [r.raw for r in read_folder(client, name) if not is_report(r)]
            for name in sorted(selectable)
        }
    finally:
        client.logout()


def test_french_names_without_special_use_land_in_exchange_folders(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_exchange: DovecotServer,
    make_user: object,
) -> None:
    """Envoyés, Corbeille, Brouillons, Indésirables (found by name: the source announces no
    SPECIAL-USE) go into Sent Items, Deleted Items, Drafts, Junk Email (found by attribute);
    a subfolder follows its parent; other folders keep their names."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    client = dovecot_src.client(src_user)
    fill(client, {
        "INBOX": [message("hello")],
        "Envoyés": [message("sent 1"), message("sent 2")],
        "Envoyés/2019": [message("sent 2019")],
        "Corbeille": [message("deleted")],
        "Brouillons": [message("draft")],
        "Indésirables": [message("spam")],
        "Factures": [message("invoice")],
    })
    client.logout()
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_src, src_user),
                   account(dovecot_exchange, dst_user, "destination"), send_report=False)
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    assert contents(dovecot_exchange, dst_user) == {
        "INBOX": [message("hello")],
        "Sent Items": [message("sent 1"), message("sent 2")],
        "Sent Items/2019": [message("sent 2019")],
        "Deleted Items": [message("deleted")],
        "Drafts": [message("draft")],
        "Junk Email": [message("spam")],
        "Archive": [],
        "Factures": [message("invoice")],
    }
    notes = {f.display_name: (f.destination_name, f.note) for f in outcome.result.folders}
    assert notes["Envoyés"] == ("Sent Items", "the destination's Sent folder")
    assert notes["Envoyés/2019"] == ("Sent Items/2019", "the destination's Sent folder")
    assert notes["Factures"] == ("Factures", "")


def gmail_source(server: DovecotServer, user: str) -> dict[str, list[bytes]]:
    """A Gmail mailbox: one message under two labels and starred; All Mail holds all."""
    shared = message("project kickoff")
    layout = {
        "INBOX": [message("welcome"), shared],
        "Work": [shared, message("report")],
        "Family": [message("photos")],
        "[Gmail]/Sent Mail": [message("my answer")],
        "[Gmail]/Drafts": [message("unfinished")],
        "[Gmail]/Trash": [message("binned")],
        "[Gmail]/Spam": [message("spam")],
        "[Gmail]/Starred": [shared],
        "[Gmail]/Important": [shared, message("welcome")],
        "[Gmail]/All Mail": [
            message("welcome"), shared, message("report"), message("photos"),
            message("my answer"), message("unfinished"), message("archived, no label"),
        ],
    }
    client = server.client(user)
    fill(client, layout)
    client.logout()
    return layout


def test_gmail_labels_are_copied_once_and_its_views_skipped(
    tmp_path: Path,
    dovecot_gmail: DovecotServer,
    dovecot_exchange: DovecotServer,
    make_user: object,
) -> None:
    """Gmail -> Exchange: each label folder once, INBOX once, Sent Mail into Sent Items,
    Trash and Spam into their Exchange names; All Mail, Important and Starred are not
    copied (they would copy the same messages again), and the plan says so."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    layout = gmail_source(dovecot_gmail, src_user)
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_gmail, src_user),
                   account(dovecot_exchange, dst_user, "destination"), send_report=False)
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    assert contents(dovecot_exchange, dst_user) == {
        "INBOX": layout["INBOX"],
        "Work": layout["Work"],
        "Family": layout["Family"],
        "Sent Items": layout["[Gmail]/Sent Mail"],
        "Drafts": layout["[Gmail]/Drafts"],
        "Deleted Items": layout["[Gmail]/Trash"],
        "Junk Email": layout["[Gmail]/Spam"],
        "Archive": [],
    }
    skipped = sorted((w.folder, w.message) for w in outcome.result.warnings)
    why = "not copied: a Gmail view of mail that the label folders hold already"
    assert skipped == [
        ("[Gmail]/All Mail", f"{why}; {UNLABELLED_HINT}"),
        ("[Gmail]/Important", why),
        ("[Gmail]/Starred", why),
    ]


def test_gmail_into_a_plain_server_drops_the_gmail_level(
    tmp_path: Path,
    dovecot_gmail: DovecotServer,
    dovecot_dst: DovecotServer,
    make_user: object,
) -> None:
    """Without special folders on the destination, ``[Gmail]/Sent Mail`` becomes
    ``Sent Mail``: "[Gmail]" means nothing elsewhere."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    layout = gmail_source(dovecot_gmail, src_user)
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_gmail, src_user),
                   account(dovecot_dst, dst_user, "destination"), send_report=False)
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    assert contents(dovecot_dst, dst_user) == {
        "INBOX": layout["INBOX"],
        "Work": layout["Work"],
        "Family": layout["Family"],
        "Sent Mail": layout["[Gmail]/Sent Mail"],
        "Drafts": layout["[Gmail]/Drafts"],
        "Trash": layout["[Gmail]/Trash"],
        "Spam": layout["[Gmail]/Spam"],
    }


def test_gmail_all_mail_instead_of_labels(
    tmp_path: Path,
    dovecot_gmail: DovecotServer,
    dovecot_dst: DovecotServer,
    make_user: object,
) -> None:
    """The user's choice: All Mail (every message once, labelled or not), plus Trash and
    Spam, which All Mail does not hold; no label folder."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    layout = gmail_source(dovecot_gmail, src_user)
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_gmail, src_user),
                   account(dovecot_dst, dst_user, "destination"), send_report=False,
                   folder_rules=MappingRules(gmail_all_mail=GmailViews.INSTEAD))
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    assert contents(dovecot_dst, dst_user) == {
        "INBOX": [],
        "All Mail": layout["[Gmail]/All Mail"],
        "Trash": layout["[Gmail]/Trash"],
        "Spam": layout["[Gmail]/Spam"],
    }


def test_rename_rules_win_and_mapping_can_be_turned_off(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_exchange: DovecotServer,
    make_user: object,
) -> None:
    """With mapping off, Envoyés keeps its name; a rule sends Corbeille (and its children)
    to "Old/Bin"."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    client = dovecot_src.client(src_user)
    fill(client, {
        "Envoyés": [message("sent")],
        "Corbeille": [message("deleted")],
        "Corbeille/Vieux": [message("older")],
    })
    client.logout()
    rules = MappingRules(special=False, renames=(MappingRules.parse_rename("Corbeille=Old/Bin"),
                                                 ("Nope", "Elsewhere")))
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_src, src_user),
                   account(dovecot_exchange, dst_user, "destination"), send_report=False,
                   folder_rules=rules)
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    found = contents(dovecot_exchange, dst_user)
    assert found["Envoyés"] == [message("sent")]
    assert found["Old/Bin"] == [message("deleted")]
    assert found["Old/Bin/Vieux"] == [message("older")]
    assert found["Sent Items"] == [] and found["Deleted Items"] == []
    assert "Corbeille" not in found
    assert [w.message for w in outcome.result.warnings] == [
        "your rule Nope=Elsewhere matches no source folder"
    ]


def test_rename_rule_syntax() -> None:
    assert MappingRules.parse_rename(" Old Sent = Sent/2019 ") == ("Old Sent", "Sent/2019")
    with pytest.raises(ValueError, match="source folder=destination folder"):
        MappingRules.parse_rename("Old Sent")




def test_dry_run_lists_every_mapping_and_skip_before_copying(
    tmp_path: Path,
    dovecot_gmail: DovecotServer,
    dovecot_exchange: DovecotServer,
    make_user: object,
) -> None:
    """``imapcopy sync --dry-run``: where each folder would go and why, what is skipped and
    why, the user's rule applied; nothing is created on the destination."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    gmail_source(dovecot_gmail, src_user)
    for name, server in (("1", dovecot_gmail), ("2", dovecot_exchange)):
        (tmp_path / name).write_text(server.password + "\n")
        (tmp_path / name).chmod(0o600)
    run = subprocess.run(
        [sys.executable, "-m", "imapcopy_tui", "sync", "--dry-run",
         "--host1", dovecot_gmail.host, "--port1", str(dovecot_gmail.plain_port), "--plain1",
         "--user1", src_user, "--passfile1", str(tmp_path / "1"),
         "--host2", dovecot_exchange.host, "--port2", str(dovecot_exchange.plain_port),
         "--plain2", "--user2", dst_user, "--passfile2", str(tmp_path / "2"),
         "--f1f2", "Family=Private/Family"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    plan = [line.strip() for line in run.stdout.splitlines()]
    for expected in (
        "INBOX -> INBOX (existing): 2 to copy, 0 already there",
        "Family -> Private/Family (create; your rename rule): 1 to copy, 0 already there",
        "[Gmail]/Sent Mail -> Sent Items (existing; the destination's Sent folder): "
        "1 to copy, 0 already there",
        "[Gmail]/Trash -> Deleted Items (existing; the destination's Trash folder): "
        "1 to copy, 0 already there",
        "Work -> Work (create): 2 to copy, 0 already there",
    ):
        assert expected in plan, run.stdout
    why = "not copied: a Gmail view of mail that the label folders hold already"
    warnings = run.stderr.splitlines()
    assert f"warning: [Gmail]/All Mail: {why}; {UNLABELLED_HINT}" in warnings, run.stderr
    for view in ("Important", "Starred"):
        assert f"warning: [Gmail]/{view}: {why}" in warnings, run.stderr
    assert "All Mail ->" not in run.stdout
    assert set(contents(dovecot_exchange, dst_user)) == {
        "INBOX", "Sent Items", "Deleted Items", "Junk Email", "Drafts", "Archive",
    }


@pytest.mark.parametrize("destination", ["dovecot_exchange", "dovecot_dst"])
def test_gmail_labels_plus_archived_mail_from_all_mail(
    tmp_path: Path,
    destination: str,
    request: pytest.FixtureRequest,
    dovecot_gmail: DovecotServer,
    make_user: object,
) -> None:
    """``--gmail-all-mail unlabelled``: the label folders as by default, and from All Mail
    only what no label folder holds (Gmail's archived mail, or mail only starred or
    important), into the destination's Archive folder: every message once."""
    assert callable(make_user)
    dst_server: DovecotServer = request.getfixturevalue(destination)
    src_user, dst_user = make_user(), make_user()
    layout = gmail_source(dovecot_gmail, src_user)
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_gmail, src_user),
                   account(dst_server, dst_user, "destination"), send_report=False,
                   folder_rules=MappingRules(gmail_all_mail=GmailViews.UNLABELLED))
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    found = contents(dst_server, dst_user)
    assert found["Archive"] == [message("archived, no label")]
    assert found["Work"] == layout["Work"] and found["INBOX"] == layout["INBOX"]
    assert "All Mail" not in found and "Starred" not in found
    (all_mail,) = [f for f in outcome.result.folders if f.display_name == "[Gmail]/All Mail"]
    assert (all_mail.destination_name, all_mail.total, all_mail.copied) == ("Archive", 1, 1)


def test_unlabelled_never_brings_in_the_mail_of_an_excluded_label(
    tmp_path: Path,
    dovecot_gmail: DovecotServer,
    dovecot_dst: DovecotServer,
    make_user: object,
) -> None:
    """With ``--exclude Work``, Work's messages are labelled all the same: All Mail does not
    copy them into Archive behind the user's back."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    gmail_source(dovecot_gmail, src_user)
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_gmail, src_user),
                   account(dovecot_dst, dst_user, "destination"), send_report=False,
                   exclude=("Work",),
                   folder_rules=MappingRules(gmail_all_mail=GmailViews.UNLABELLED))
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    found = contents(dovecot_dst, dst_user)
    assert "Work" not in found
    assert found["Archive"] == [message("archived, no label")]


def test_sent_found_by_name_stays_where_earlier_runs_copied_it(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, make_user: object
) -> None:
    """Neither server marks its folders (roles by name).  The first run copies Envoyés into
    the destination's "Sent Items"; then a "Sent" folder appears there, which sorts first
    and also names a Sent folder.  Resuming the job, and a new job between the same
    accounts, keep copying into "Sent Items" (the ledger remembers): nothing is copied
    again, "Sent" stays empty.  A store that never saw these accounts goes by name."""
    from imapcopy_tui.runner import run_job
    from tests.helpers import FAST, CopyOptions

    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    client = dovecot_src.client(src_user)
    fill(client, {
        "Envoyés": [message("sent 1"), message("sent 2")],
        "Envoyés/2019": [message("sent 2019")],
    })
    client.logout()
    client = dovecot_dst.client(dst_user)
    client.create_folder("Sent Items")
    client.logout()
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, dst_user, "destination")
    job = store.create_job(src, dst)
    first = run_job(store, job.id, src, dst, CopyOptions(**FAST, send_report=False))
    assert first.state is JobState.FINISHED, (first.failure, first.result.errors)
    assert first.result.total("copied") == 3
    expected = {
        "INBOX": [],
        "Sent Items": [message("sent 1"), message("sent 2")],
        "Sent Items/2019": [message("sent 2019")],
    }
    assert contents(dovecot_dst, dst_user) == expected

    client = dovecot_dst.client(dst_user)
    client.create_folder("Sent")
    client.logout()
    expected["Sent"] = []
    resumed = run_job(store, job.id, src, dst, CopyOptions(**FAST, send_report=False))
    assert contents(dovecot_dst, dst_user) == expected
    again = sync(store, src, dst, send_report=False)
    # The resumed job counts its own earlier copies; the new job finds them there.
    for outcome, copied, present in ((resumed, 3, 0), (again, 0, 3)):
        assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
        assert (outcome.result.total("copied"), outcome.result.total("present")) == (
            copied, present
        )
        notes = {f.display_name: (f.destination_name, f.note) for f in outcome.result.folders}
        assert notes["Envoyés"] == (
            "Sent Items",
            "the destination's Sent folder, as on earlier runs ('Sent' also looks like one)",
        )
        assert notes["Envoyés/2019"][0] == "Sent Items/2019"
    assert contents(dovecot_dst, dst_user) == expected

    # The control: without the ledger's memory the name search picks "Sent".
    fresh = sync(new_store(tmp_path / "other"), src, dst, dry_run=True, send_report=False)
    notes = {f.display_name: f.destination_name for f in fresh.result.folders}
    assert notes["Envoyés"] == "Sent"
