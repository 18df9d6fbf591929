"""Odd folders between real Dovecot servers: names, an empty one, a huge one, and a
folder whose UIDVALIDITY changes between runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from imapcopy_tui.storage.store import JobState
from tests.corpus import list_folder_names
from tests.dovecot import DovecotServer
from tests.helpers import account, new_store, sync
from tests.rawmail import Mail, assert_same_messages, put, read

pytestmark = pytest.mark.dovecot

# Source name (on a '/' server) -> name on a '/' destination, and on a '.' + 'INBOX.' one.
NAMES = {
    "R&D": ("R&D", "INBOX.R&D"),
    "&Jjo-": ("&Jjo-", "INBOX.&Jjo-"),  # looks like modified UTF-7, is not
    "a~b": ("a~b", "INBOX.a~b"),
    'say "hi"': ('say "hi"', 'INBOX.say "hi"'),
    "100%": ("100%", "INBOX.100%"),
    "star*": ("star*", "INBOX.star*"),
    "back\\slash": ("back\\slash", "INBOX.back\\slash"),
    " leading space": (" leading space", "INBOX. leading space"),
    "Données": ("Données", "INBOX.Données"),
    "日本": ("日本", "INBOX.日本"),
    "a.b": ("a.b", "INBOX.a_b"),  # '.' separates folders on the destination
    "Work": ("Work", "INBOX.Work"),
    "work": ("work_2", "INBOX.work_2"),  # not merged into Work where case is ignored
    "Parent/Child é": ("Parent/Child é", "INBOX.Parent.Child é"),
}
EMPTY = {"Empty": ("Empty", "INBOX.Empty")}


def _fill_odd_folders(server: DovecotServer, user: str) -> None:
    client = server.client(user)
    for name in [*NAMES, *EMPTY]:
        client.create_folder(name)
    client.logout()
    for number, name in enumerate(NAMES):
        put(server, user, name, [Mail(f"Subject: in {name}\r\n\r\nbody {number}\r\n".encode(),
                                      ("\\Seen", f"k{number}"), f"0{number % 9 + 1}-Mar-2020 "
                                      "08:00:00 +0100")])


@pytest.mark.parametrize("layout", ["slash", "dot"])
def test_odd_folder_names_arrive_each_in_its_own_folder(
    request: pytest.FixtureRequest, tmp_path: Path, dovecot_src: DovecotServer,
    unique_user: str, layout: str,
) -> None:
    """'&', a name that looks encoded, '~', quotes, '%', '*', a backslash, a leading space,
    non-ASCII, a child, the destination's separator inside a name, names differing only in
    case, an empty folder: each source folder lands in a folder of its own (created,
    subscribed, empty ones too) with its message exactly; the renamed ones are warned
    about; a re-run adds nothing."""
    destination: DovecotServer = request.getfixturevalue(
        "dovecot_dst" if layout == "slash" else "dovecot_dot")
    column = 0 if layout == "slash" else 1
    source_user = unique_user + "-src"
    _fill_odd_folders(dovecot_src, source_user)
    src, dst = account(dovecot_src, source_user), account(destination, unique_user, "destination")
    store = new_store(tmp_path)
    outcome = sync(store, src, dst, send_report=False)
    assert outcome.state is JobState.FINISHED, outcome.result.issues
    assert outcome.result.errors == []
    renamed = {w.folder for w in outcome.result.warnings}
    assert renamed == ({"work"} if layout == "slash" else {"a.b", "work"})

    client = destination.client(unique_user)
    listed = list_folder_names(client)
    subscribed = {name for *_, name in client.list_sub_folders()}
    client.logout()
    mapping = {source: names[column] for source, names in {**NAMES, **EMPTY}.items()}
    assert set(mapping.values()) <= listed and set(mapping.values()) <= subscribed
    for source_name, destination_name in mapping.items():
        assert_same_messages(read(dovecot_src, source_user, source_name),
                             read(destination, unique_user, destination_name), source_name)
    assert read(destination, unique_user, mapping["Empty"]) == []

    again = sync(store, src, dst, send_report=False)
    fresh = sync(new_store(tmp_path / "other"), src, dst, send_report=False)
    for rerun in (again, fresh):
        assert rerun.state is JobState.FINISHED and rerun.result.total("copied") == 0
    assert fresh.result.total("present") == len(NAMES)
    client = destination.client(unique_user)
    assert list_folder_names(client) == listed
    client.logout()


def test_folder_the_destination_refuses_to_create_is_reported(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """A source folder named '~old' (Cyrus or Courier allow it; Dovecot refuses names that
    start with '~'): the folder is recorded as failed with the server's words and the job
    ends with errors; the other folders are copied."""
    source_user = unique_user + "-src"
    put(dovecot_src, source_user, "old", [Mail(b"Subject: old\r\n\r\nbody\r\n")])
    put(dovecot_src, source_user, "INBOX", [Mail(b"Subject: inbox\r\n\r\nbody\r\n")])
    # Dovecot lists a mailbox directory named so, though it would not create one.
    mailboxes = dovecot_src.mailbox_path(source_user) / "mailboxes"
    (mailboxes / "old").rename(mailboxes / "~old")
    outcome = sync(new_store(tmp_path), account(dovecot_src, source_user),
                   account(dovecot_dst, unique_user, "destination"), send_report=False)
    assert outcome.state is JobState.FINISHED_WITH_ERRORS
    (error,) = outcome.result.errors
    assert error.folder == "~old" and "Begins with '~'" in error.message
    assert len(read(dovecot_dst, unique_user, "INBOX")) == 1


# --- UIDVALIDITY --------------------------------------------------------------------------

WORK = [Mail(b"Subject: work %d\r\nMessage-ID: <%d@work>\r\n\r\nbody\r\n" % (n, n), ("\\Seen",))
        for n in range(5)]
NEW = Mail(b"Subject: arrived later\r\n\r\nbody\r\n", ("\\Flagged",))


@pytest.mark.parametrize("change", ["doveadm", "recreated", "destination-recreated"])
def test_uidvalidity_change_resets_the_folder_and_nothing_is_doubled(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer,
    unique_user: str, change: str,
) -> None:
    """Between two runs a folder's UIDVALIDITY changes: on the source by ``doveadm mailbox
    update``, or by deleting and re-creating it with a new message FIRST (so every old UID
    now names another message), or on the destination by re-creating it empty.  The
    second run does not trust the old resume state for that folder: every message is on
    the destination exactly once, the new one included."""
    source_user = unique_user + "-src"
    put(dovecot_src, source_user, "Work", WORK)
    src, dst = account(dovecot_src, source_user), account(dovecot_dst, unique_user, "destination")
    store = new_store(tmp_path)
    assert sync(store, src, dst, send_report=False).result.total("copied") == len(WORK)

    client = (dovecot_dst if change == "destination-recreated" else dovecot_src).client(
        unique_user if change == "destination-recreated" else source_user)
    before = client.folder_status("Work", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    if change == "doveadm":
        client.logout()
        dovecot_src.doveadm("mailbox", "update", "-u", source_user,
                            "--uid-validity", str(before + 1000), "Work")
        put(dovecot_src, source_user, "Work", [NEW])
    elif change == "recreated":
        client.delete_folder("Work")
        client.logout()
        put(dovecot_src, source_user, "Work", [NEW, *WORK])
    else:
        client.delete_folder("Work")
        client.create_folder("Work")
        client.logout()
    client = (dovecot_dst if change == "destination-recreated" else dovecot_src).client(
        unique_user if change == "destination-recreated" else source_user)
    assert client.folder_status("Work", ["UIDVALIDITY"])[b"UIDVALIDITY"] != before
    client.logout()

    second = sync(store, src, dst, send_report=False)
    assert second.state is JobState.FINISHED, second.result.issues
    expected = WORK if change == "destination-recreated" else [*WORK, NEW]
    copied = read(dovecot_dst, unique_user, "Work")
    assert sorted(c.body for c in copied) == sorted(m.raw for m in expected)
    assert second.result.total("copied") == (len(WORK) if change == "destination-recreated"
                                             else 1)
    third = sync(store, src, dst, send_report=False)
    assert third.result.total("copied") == 0
    assert len(read(dovecot_dst, unique_user, "Work")) == len(expected)


# --- a huge folder ------------------------------------------------------------------------


def _numbered(count: int) -> list[Mail]:
    return [Mail(b"From: list@example.org\r\nSubject: message %d\r\nMessage-ID: <%d@big>\r\n"
                 b"\r\nbody %d\r\n" % (n, n, n), ("\\Seen",) if n % 3 else (),
                 f"{n % 28 + 1:02d}-Jan-2021 {n % 24:02d}:00:00 +0000") for n in range(count)]


@pytest.mark.parametrize("count", [5_000, pytest.param(50_000, marks=pytest.mark.slow)])
def test_huge_folder_is_copied_once(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer,
    unique_user: str, count: int,
) -> None:
    """One folder of thousands of small messages (50,000 with ``-m slow``): all copied in
    order with flags and dates; a re-run without the ledger (a new job store: identities
    of every message on both sides) adds nothing."""
    source_user = unique_user + "-src"
    put(dovecot_src, source_user, "Big", _numbered(count))
    src, dst = account(dovecot_src, source_user), account(dovecot_dst, unique_user, "destination")
    first = sync(new_store(tmp_path), src, dst, send_report=False)
    assert first.state is JobState.FINISHED, first.result.issues
    assert first.result.total("copied") == count
    assert_same_messages(read(dovecot_src, source_user, "Big"),
                         read(dovecot_dst, unique_user, "Big"), "Big")
    fresh = sync(new_store(tmp_path / "other"), src, dst, send_report=False)
    assert fresh.result.total("copied") == 0 and fresh.result.total("present") == count
