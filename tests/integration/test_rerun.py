"""Cheap re-runs (issue 4): an unchanged folder is recognised from STATUS and the ledger,
HIGHESTMODSEQ included where the server offers CONDSTORE, and a destination that lost mail
is never hidden by the skip.  What the copier sends is read from Dovecot's rawlog."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.storage.store import JobState, JobStore
from tests.dovecot import DovecotServer
from tests.helpers import account, new_store, sync

pytestmark = pytest.mark.dovecot

# Dovecot 2.3's own list after login, without CONDSTORE and QRESYNC (which implies it).
NO_CONDSTORE = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT THREAD=REFERENCES MULTIAPPEND "
    "UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 ESEARCH SEARCHRES WITHIN "
    "LIST-STATUS BINARY MOVE LITERAL+ SPECIAL-USE"
)


@pytest.fixture(scope="module")
def dovecot_plain(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A server that does not offer CONDSTORE (it still implements it)."""
    with DovecotServer(dovecot_root, "nocond",
                       extra_config=f"imap_capability = {NO_CONDSTORE}\n") as server:
        yield server


def _fill(server: DovecotServer, user: str) -> None:
    client = server.client(user)
    client.create_folder("Work")
    for folder in ("INBOX", "Work"):
        for n in range(3):
            client.append(folder, f"Subject: {folder} {n}\r\n\r\nbody {n}\r\n".encode())
    client.logout()


def _sent(rawlog: Path) -> bytes:
    """Every command the server received in the recorded sessions; the logs are then
    removed so that the next run is read alone."""
    sent = b"".join(p.read_bytes() for p in sorted(rawlog.glob("*.in")))
    for log in rawlog.iterdir():
        log.unlink()
    return sent


def _subjects(server: DovecotServer, user: str, folder: str) -> list[str]:
    client = server.client(user)
    client.select_folder(folder, readonly=True)
    fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    client.logout()
    return sorted(
        data[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip().removeprefix("Subject: ")
        for data in fetched.values()
    )


def _first_run(
    tmp_path: Path, src_server: DovecotServer, dst_server: DovecotServer, user: str
) -> tuple[JobStore, Account, Account]:
    source_user = user + "-src"
    _fill(src_server, source_user)
    store = new_store(tmp_path)
    src, dst = account(src_server, source_user), account(dst_server, user, "destination")
    first = sync(store, src, dst, send_report=False)
    assert first.state is JobState.FINISHED
    assert first.result.total("copied") == 6
    return store, src, dst


def test_unchanged_rerun_asks_highestmodseq_in_the_one_status(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """Dovecot offers CONDSTORE: the re-run's STATUS asks HIGHESTMODSEQ in the same
    pipelined command, and an unchanged mailbox is settled without opening a folder."""
    client = dovecot_src.client(unique_user + "-src")
    assert b"CONDSTORE" in client.capabilities()
    client.logout()
    store, src, dst = _first_run(tmp_path, dovecot_src, dovecot_dst, unique_user)
    rawlog = dovecot_src.enable_rawlog(src.login)
    again = sync(store, src, dst, send_report=False)
    assert (again.result.total("copied"), again.result.total("present")) == (0, 6)
    sent = _sent(rawlog)
    statuses = re.findall(rb" STATUS \"?(\w+)\"? \(([^)]*)\)", sent)
    assert sorted(statuses) == [
        (name, b"MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ") for name in (b"INBOX", b"Work")
    ]
    assert not re.search(rb" (EXAMINE|SELECT|FETCH|UID FETCH|UID SEARCH) ", sent), sent


def test_flag_change_on_the_source_has_the_folder_read_again_and_nothing_doubled(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """A flag set on the source (by its user; the tool never alters the source) moves
    HIGHESTMODSEQ only: that folder is opened again, nothing is copied twice, the other
    folder is still skipped."""
    store, src, dst = _first_run(tmp_path, dovecot_src, dovecot_dst, unique_user)
    client = dovecot_src.client(src.login)
    client.select_folder("Work")
    client.add_flags(client.search("ALL")[:1], [b"\\Flagged"])
    client.logout()
    rawlog = dovecot_src.enable_rawlog(src.login)
    again = sync(store, src, dst, send_report=False)
    assert again.state is JobState.FINISHED
    assert (again.result.total("copied"), again.result.total("present")) == (0, 6)
    assert re.findall(rb" EXAMINE \"?(\w+)", _sent(rawlog)) == [b"Work"]
    for folder in ("INBOX", "Work"):
        assert _subjects(dovecot_dst, unique_user, folder) == [f"{folder} {n}" for n in range(3)]
    # The folder's new state is remembered: the next run skips it again.
    third = sync(store, src, dst, send_report=False)
    assert third.result.total("copied") == 0
    assert not re.search(rb" EXAMINE ", _sent(rawlog))


def test_message_deleted_on_the_destination_and_another_arriving_is_restored_once(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """On the destination one copied message is deleted and a new one arrives: the count
    is the same, but UIDNEXT grew by one more than it: the folder is read again and the
    deleted message copied again, once."""
    store, src, dst = _first_run(tmp_path, dovecot_src, dovecot_dst, unique_user)
    client = dovecot_dst.client(unique_user)
    client.select_folder("Work")
    victim = [
        uid for uid, data in client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER]"]).items()
        if b"Subject: Work 1" in data[b"BODY[HEADER]"]
    ]
    client.delete_messages(victim)
    client.expunge()
    client.append("Work", b"Subject: arrived at the destination\r\n\r\nhello\r\n")
    assert client.folder_status("Work", ["MESSAGES"])[b"MESSAGES"] == 3
    client.logout()
    again = sync(store, src, dst, send_report=False)
    assert again.state is JobState.FINISHED
    assert (again.result.total("copied"), again.result.total("present")) == (1, 5)
    assert any("deleted from the destination" in i.message for i in again.result.issues)
    assert _subjects(dovecot_dst, unique_user, "Work") == [
        "Work 0", "Work 1", "Work 2", "arrived at the destination",
    ]
    assert _subjects(dovecot_dst, unique_user, "INBOX") == [f"INBOX {n}" for n in range(3)]
    third = sync(store, src, dst, send_report=False)
    assert third.result.total("copied") == 0
    assert _subjects(dovecot_dst, unique_user, "Work") == [
        "Work 0", "Work 1", "Work 2", "arrived at the destination",
    ]


def test_new_mail_on_the_destination_does_not_stop_the_skip(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """Mail arriving at the destination (the user's new address at work) and flags set
    there are normal: the folder is still settled by STATUS alone."""
    store, src, dst = _first_run(tmp_path, dovecot_src, dovecot_dst, unique_user)
    client = dovecot_dst.client(unique_user)
    client.append("Work", b"Subject: arrived at the destination\r\n\r\nhello\r\n")
    client.select_folder("Work")
    client.add_flags(client.search("ALL"), [b"\\Seen"])
    client.logout()
    rawlog = dovecot_src.enable_rawlog(src.login)
    again = sync(store, src, dst, send_report=False)
    assert (again.result.total("copied"), again.result.total("present")) == (0, 6)
    assert not re.search(rb" (EXAMINE|SELECT|FETCH) ", _sent(rawlog))


def test_server_without_condstore_is_never_asked_highestmodseq_and_still_skips(
    tmp_path: Path, dovecot_plain: DovecotServer, unique_user: str
) -> None:
    """Source and destination without CONDSTORE: STATUS asks the three values only, and
    an unchanged mailbox is still settled without opening a folder."""
    client = dovecot_plain.client(unique_user + "-src")
    assert b"CONDSTORE" not in client.capabilities()
    client.logout()
    store, src, dst = _first_run(tmp_path, dovecot_plain, dovecot_plain, unique_user)
    rawlog = dovecot_plain.enable_rawlog(src.login)
    again = sync(store, src, dst, send_report=False)
    assert (again.result.total("copied"), again.result.total("present")) == (0, 6)
    sent = _sent(rawlog)
    assert b"HIGHESTMODSEQ" not in sent
    statuses = re.findall(rb" STATUS \"?(\w+)\"? \(([^)]*)\)", sent)
    assert sorted(statuses) == [
        (name, b"MESSAGES UIDNEXT UIDVALIDITY") for name in (b"INBOX", b"Work")
    ]
    assert not re.search(rb" (EXAMINE|SELECT|FETCH|UID FETCH|UID SEARCH) ", sent), sent
