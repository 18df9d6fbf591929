"""Odd and hostile messages, copied between real Dovecot servers.

Each must arrive as the source's IMAP hands it out (bytes, flags, internal date) or be
reported, and a second run must add nothing, with the ledger or without it (a new job
store: the identity rule alone).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from imapcopy_tui.engine.bulk import OutgoingMessage
from imapcopy_tui.engine.options import CopyOptions
from imapcopy_tui.engine.session import open_session
from imapcopy_tui.storage.store import JobState
from tests.dovecot import DovecotServer
from tests.helpers import account, new_store, sync
from tests.rawmail import Mail, assert_same_messages, put, read

pytestmark = pytest.mark.dovecot
ROOT = Path(__file__).parents[2]

FOLDED = b"References: " + b"\r\n\t".join(b"<%05d.folded@example.org>" % n for n in range(3000))
HOSTILE = {
    "bare LF line ends": Mail(
        b"From: a@example.org\nSubject: bare LF\nDate: Mon, 1 Feb 2021 10:00:00 +0100\n\n"
        b"line one\nline two\n\n", ("\\Seen",), "01-Feb-2021 10:00:05 +0100"),
    "NUL bytes in the body": Mail(
        b"From: a@example.org\r\nSubject: NUL\r\n\r\nbefore\x00after\x00\x00end\r\n",
        ("\\Flagged",), "02-Feb-2021 11:00:00 +0000"),
    "UTF-8 headers": Mail(
        "From: Jörg Müller <j@example.de>\r\nSubject: Réunion 日本語 ✓\r\n"
        "X-Note: ça va\r\n\r\nbody\r\n".encode(), ("\\Seen", "$Label1"),
        "03-Feb-2021 12:00:00 +0900"),
    "latin-1 headers": Mail(
        "From: Zoë <z@example.fr>\r\nSubject: Réunion à Genève\r\n\r\ncorps é\r\n"
        .encode("latin-1"), ("\\Answered",), "04-Feb-2021 13:00:00 -0500"),
    "no Date header": Mail(
        b"From: a@example.org\r\nSubject: no date\r\n\r\nbody\r\n", (),
        "05-Feb-2021 14:00:00 +0000"),
    "invalid Date header": Mail(
        b"From: a@example.org\r\nDate: 32 Foo 20x9 25:61:61 +9999 (yesterday-ish)\r\n"
        b"Subject: invalid date\r\n\r\nbody\r\n", (), "06-Feb-2021 15:00:00 +0000"),
    "far-future Date header": Mail(
        b"From: a@example.org\r\nDate: Fri, 31 Dec 9999 23:59:59 +0000\r\n"
        b"Subject: from the future\r\n\r\nbody\r\n", (), "07-Feb-2021 16:00:00 +0000"),
    "1,000-character header line": Mail(
        b"From: a@example.org\r\nSubject: " + b"x" * 991 + b"\r\n\r\nbody\r\n",
        ("a[b", "~x"), "08-Feb-2021 17:00:00 +0000"),
    "folded very long header (90 KB)": Mail(
        b"From: a@example.org\r\n" + FOLDED + b"\r\nSubject: folded\r\n\r\nbody\r\n",
        ("!#&'+,-./:;<=>?@^_`|~",), "09-Feb-2021 18:00:00 +0000"),
    # Dovecot keeps internal dates as unsigned 32-bit seconds: 1970 is as far back as it
    # goes (an earlier one wraps to decades ahead; see the unit tests for those).
    "internal date at the epoch": Mail(
        b"Subject: epoch\r\n\r\nbody\r\n", ("\\Seen",), "01-Jan-1970 05:30:00 +0530"),
    "internal date with a -2359 zone": Mail(
        b"Subject: zone -2359\r\n\r\nbody\r\n", ("\\Draft",), "31-Dec-2019 23:59:59 -2359"),
    "internal date with a +1345 zone": Mail(
        b"Subject: zone +1345\r\n\r\nbody\r\n", (), "29-Feb-2020 12:00:00 +1345"),
}


def _soon() -> Mail:
    """A message dated an hour ahead: still kept by Dovecot, and no warning."""
    when = (datetime.now(UTC) + timedelta(hours=1)).strftime("%d-%b-%Y %H:%M:%S +0000")
    return Mail(b"Subject: in an hour\r\n\r\nbody\r\n", (), when)


def test_odd_messages_arrive_as_the_source_hands_them_out(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer,
    unique_user: str,
) -> None:
    """Bare LF ends, NUL bytes, 8-bit headers (UTF-8 and latin-1), no / invalid / far-future
    Date headers, a 1,000-character and a 90 KB folded header, internal dates at the epoch,
    an hour ahead and in extreme zones, odd but valid keywords: the destination hands out
    exactly what the source does (bytes, flags, internal date), with no issue at all; a
    re-run, with the ledger and without, adds nothing."""
    source_user = unique_user + "-src"
    put(dovecot_src, source_user, "INBOX", [*HOSTILE.values(), _soon()])
    put(dovecot_src, source_user, "Twice", [HOSTILE["NUL bytes in the body"]] * 2)
    src, dst = account(dovecot_src, source_user), account(dovecot_dst, unique_user, "destination")
    store = new_store(tmp_path)
    first = sync(store, src, dst, send_report=False)
    assert first.state is JobState.FINISHED, first.result.issues
    assert first.result.issues == []
    assert first.result.total("copied") == len(HOSTILE) + 3
    for folder in ("INBOX", "Twice"):
        assert_same_messages(read(dovecot_src, source_user, folder),
                             read(dovecot_dst, unique_user, folder), folder)
    # What the source gave: bare LFs as CRLF, and for NUL the 0x80 Dovecot hands every
    # client in its place.  Known limit: Dovecot keeps the NUL itself, which only BINARY[]
    # shows (and BINARY[] also decodes every part, so it cannot be what is copied).
    by_subject = {re.search(rb"Subject: ([^\r\n]*)", s.body).group(1): s  # type: ignore[union-attr]
                  for s in read(dovecot_src, source_user, "INBOX")}
    assert b"line one\r\nline two\r\n" in by_subject[b"bare LF"].body
    assert b"before\x80after\x80\x80end" in by_subject[b"NUL"].body
    assert b"before\x00after" in read(dovecot_src, source_user, "Twice", binary=True)[0].body
    assert b"before\x80after" in read(dovecot_dst, unique_user, "Twice", binary=True)[0].body
    assert by_subject[b"epoch"].internal_date == datetime(1970, 1, 1, tzinfo=UTC)

    again = sync(store, src, dst, send_report=False)
    fresh = sync(new_store(tmp_path / "other"), src, dst, send_report=False)
    for outcome in (again, fresh):
        assert outcome.state is JobState.FINISHED, outcome.result.issues
        assert outcome.result.total("copied") == 0
    assert fresh.result.total("present") == len(HOSTILE) + 3
    for folder in ("INBOX", "Twice"):
        assert_same_messages(read(dovecot_src, source_user, folder),
                             read(dovecot_dst, unique_user, folder), folder)


def test_gateway_writes_nul_bytes_and_any_year_as_imap_allows(
    dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """What Dovecot cannot show from a source, sent straight through the gateway: raw NUL
    bytes go as a binary literal (``~{n+}``, RFC 3516, the only form that may carry them)
    and are stored byte for byte; a year below 1000 is written with four digits (IMAPClient's
    ``strftime`` writes ``999``, which Dovecot answers with BAD)."""
    raw = b"From: a@example.org\r\nSubject: raw NUL\r\n\r\nx\x00y\r\n"
    rawlog = dovecot_dst.enable_rawlog(unique_user)
    when = datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC)
    with open_session(account(dovecot_dst, unique_user, "destination")) as session:
        assert session.can_append_nul
        session.append_many("INBOX", [
            OutgoingMessage(b"Subject: plain\r\n\r\nx\r\n", (), when),
            OutgoingMessage(raw, ("\\Seen",), when),
            OutgoingMessage(b"Subject: year 999\r\n\r\nx\r\n", (),
                            datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ])
    sent = b"".join(p.read_bytes() for p in rawlog.glob("*.in"))
    assert re.search(rb" \{\d+\+\}\r\n[0-9.]+ Subject: plain", sent)
    assert re.search(rb" ~\{%d\+\}\r\n[0-9.]+ From: a@example.org" % len(raw), sent)
    assert b' "31-Dec-0999 23:59:59 +0000" {' in sent
    stored = read(dovecot_dst, unique_user, "INBOX", binary=True)
    assert [s.body for s in stored][1] == raw and stored[1].internal_date == when


def _import_mbox(server: DovecotServer, user: str, mbox: bytes) -> None:
    """Deliver an mbox with doveadm: its ``From`` lines set internal dates that APPEND
    would not keep (Dovecot stores "now" for a date more than two hours ahead)."""
    client = server.client(user)  # creates the user's home
    client.logout()
    folder = Path(tempfile.mkdtemp(dir=server.root))
    folder.chmod(0o777)  # doveadm runs as the mail user
    path = folder / "mbox"
    path.write_bytes(mbox)
    path.chmod(0o666)
    server.doveadm("import", "-u", user, f"mbox:{folder}:INBOX={path}", "", "all")


def test_internal_date_far_ahead_is_copied_and_reported(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """A message dated 2100 on the source: the bytes and flags arrive, and the job warns
    that the destination may not keep that date, naming the message; Dovecot indeed
    stores the time of the copy.  A re-run (new job store) adds nothing."""
    source_user = unique_user + "-src"
    _import_mbox(dovecot_src, source_user, (
        b"From a@example.org Fri Dec 31 23:59:59 2100\nSubject: from 2100\n\nbody\n\n"
        b"From a@example.org Sat Jan  2 03:04:05 1999\nSubject: from 1999\n\nbody\n\n"))
    source = read(dovecot_src, source_user, "INBOX")
    assert [s.internal_date.year for s in source] == [2100, 1999]
    src, dst = account(dovecot_src, source_user), account(dovecot_dst, unique_user, "destination")
    outcome = sync(new_store(tmp_path), src, dst, send_report=False)
    assert outcome.state is JobState.FINISHED, outcome.result.issues
    (warning,) = outcome.result.warnings
    assert warning.uid == source[0].uid and "ahead" in warning.message
    copied = read(dovecot_dst, unique_user, "INBOX")
    assert [c.body for c in copied] == [s.body for s in source]
    assert copied[1].same_as(source[1])
    assert abs(copied[0].internal_date - datetime.now(UTC)) < timedelta(hours=1)
    again = sync(new_store(tmp_path / "other"), src, dst, send_report=False)
    assert again.result.total("copied") == 0 and again.result.total("present") == 2


# --- a message bigger than the memory budget ----------------------------------------------

ATTACHMENT_LINES = 60 * 1024 * 1024 // 78  # of 76 characters and CRLF: 60 MB
CHILD = r"""
import json, re, sys
from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.runner import run_job
from imapcopy_tui.storage.store import JobStore

def peak_kib():
    # VmHWM: this process's own peak (ru_maxrss carries the parent's over exec).
    return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1))

spec = json.load(sys.stdin)
src, dst = (Account(**side, security=Security.PLAIN) for side in (spec["src"], spec["dst"]))
store = JobStore(spec["db"])
before = peak_kib()
job = store.create_job(src, dst)
outcome = run_job(store, job.id, src, dst, CopyOptions(send_report=False, connections=2))
print(json.dumps({"state": str(outcome.state), "copied": outcome.result.total("copied"),
                  "issues": [str(i) for i in outcome.result.issues],
                  "before_kib": before, "peak_kib": peak_kib()}))
"""


def _big_message() -> bytes:
    """60 MB of attachment, quick to make: numbered base64 lines, each one different."""
    lines = b"".join([b"%076d\r\n" % n for n in range(ATTACHMENT_LINES)])
    return (b"From: a@example.org\r\nSubject: 60 MB\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
            b"Content-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            b"\r\n" + lines + b"--XX--\r\n")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_message_bigger_than_the_memory_budget_goes_through_alone(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """A 60 MB message, bigger than the whole 48 MB memory budget, between small ones and
    beside another folder copied in parallel: it is copied exactly, the copying process
    holds about one copy of it (peak growth under 1.75 times its size), and a re-run adds
    nothing."""
    big = _big_message()
    assert len(big) > CopyOptions().memory_budget_bytes
    digest = hashlib.sha256(big).hexdigest()
    source_user = unique_user + "-src"
    small = [Mail(b"Subject: small %d\r\n\r\nbody\r\n" % n) for n in range(3)]
    put(dovecot_src, source_user, "INBOX", [small[0], Mail(big, ("\\Seen",)), small[1]])
    put(dovecot_src, source_user, "Other", [Mail(b"Subject: other %d\r\n\r\nx\r\n" % n)
                                            for n in range(300)])
    size = len(big)
    del big

    def side(server: DovecotServer, user: str, role: str) -> dict[str, object]:
        return {"host": server.host, "port": server.plain_port, "login": user,
                "password": server.password, "role": role}

    spec = {"src": side(dovecot_src, source_user, "source"),
            "dst": side(dovecot_dst, unique_user, "destination"),
            "db": str(tmp_path / "jobs.sqlite3")}
    child = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(spec), text=True,
                           capture_output=True, timeout=120, cwd=ROOT, check=False,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    assert result["state"] == "finished" and result["issues"] == []
    assert result["copied"] == 303
    growth = (result["peak_kib"] - result["before_kib"]) * 1024
    assert growth < 1.75 * size, f"peak grew by {growth / 2**20:.0f} MiB for {size / 2**20:.0f}"
    for folder in ("Other", "INBOX"):
        copied = read(dovecot_dst, unique_user, folder)
        assert_same_messages(read(dovecot_src, source_user, folder), copied, folder)
    assert hashlib.sha256(copied[1].body).hexdigest() == digest  # INBOX's big one
    src, dst = account(dovecot_src, source_user), account(dovecot_dst, unique_user, "destination")
    again = sync(new_store(tmp_path / "other"), src, dst, send_report=False)
    assert again.result.total("copied") == 0 and again.result.total("present") == 303
