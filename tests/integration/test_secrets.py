"""Secrets: no password in any file the tool writes, the runner's argv or environment,
the report mail, an error's text or the protocol trace; every file private (0600 in 0700
directories) whatever the umask.

The source of these jobs is ``dovecot_utf8``, whose password is not ASCII: it travels in
AUTHENTICATE PLAIN (base64), the destination's in LOGIN, so both forms are looked for.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from imapcopy_tui import cli
from imapcopy_tui.engine.account import Account
from imapcopy_tui.launcher import launch_detached
from imapcopy_tui.locations import default_db_path
from imapcopy_tui.storage.store import JobState, JobStore
from tests.corpus import Corpus, fill_source
from tests.dovecot import DovecotServer, free_ports
from tests.helpers import account, assert_identical, reports

pytestmark = pytest.mark.dovecot


@pytest.fixture(scope="module")
def utf8_source(dovecot_utf8: DovecotServer) -> tuple[str, Corpus]:
    """(user, corpus) on the server with the non-ASCII password."""
    client = dovecot_utf8.client("corpus-utf8")
    try:
        return "corpus-utf8", fill_source(client, dovecot_utf8.separator, dovecot_utf8.prefix)
    finally:
        client.logout()


def secret_forms(acct: Account) -> list[bytes]:
    """The password as it could leak: raw (UTF-8 and Latin-1), JSON-escaped (the runner's
    pipe), base64 alone and as the AUTHENTICATE PLAIN response."""
    password = acct.password
    forms = {password.encode(), json.dumps(password)[1:-1].encode(),
             base64.b64encode(password.encode())}
    if password.isascii():
        forms.add(password.encode("latin-1"))
    for authzid in ("", acct.login):
        forms.add(base64.b64encode(f"{authzid}\0{acct.login}\0{password}".encode()))
    return sorted(forms)


def written_files(tmp_path: Path) -> list[Path]:
    """Every file under the test's XDG directories (the database is there too)."""
    found = [p for p in (tmp_path / "xdg").rglob("*") if p.is_file()]
    assert found, "the tool wrote nothing?"
    return found


def assert_private_and_clean(tmp_path: Path, *accounts: Account) -> None:
    """Each file 0600 with no secret in it; each directory the tool made 0700."""
    forms = [form for acct in accounts for form in secret_forms(acct)]
    for path in written_files(tmp_path):
        data = path.read_bytes()
        leaked = [form for form in forms if form in data]
        assert not leaked, f"{path} holds a password"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for directory in (tmp_path / "xdg").rglob("*"):
        if directory.is_dir():
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def default_locations(monkeypatch: pytest.MonkeyPatch) -> JobStore:
    """The job store where the tool puts it by default: under $XDG_DATA_HOME."""
    monkeypatch.delenv("IMAPCOPY_DB")
    return JobStore(default_db_path())


@pytest.fixture
def copy_job(
    monkeypatch: pytest.MonkeyPatch,
    dovecot_utf8: DovecotServer,
    dovecot_dst: DovecotServer,
    utf8_source: tuple[str, Corpus],
    unique_user: str,
) -> tuple[Account, Account, Corpus]:
    """(source, destination, corpus) of a copy into a fresh mailbox; both passwords are in
    our environment as IMAPCOPY_PASSWORD1/2, as a script would set them."""
    src_user, corpus = utf8_source
    src = account(dovecot_utf8, src_user)
    dst = account(dovecot_dst, unique_user, "destination")
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", src.password)
    monkeypatch.setenv("IMAPCOPY_PASSWORD2", dst.password)
    return src, dst, corpus


def test_detached_job_leaves_no_password_anywhere(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dovecot_dst: DovecotServer,
    copy_job: tuple[Account, Account, Corpus],
) -> None:
    """A real detached copy (umask 000): while it runs, its argv and environment hold no
    password (although ours does); afterwards no file it or we wrote (database, WAL, SHM,
    log) holds one in any form, all are 0600 in 0700 directories, and neither is in the
    report mail."""
    src, dst, corpus = copy_job
    monkeypatch.delenv("IMAPCOPY_DB")
    with umask(0o000):
        store = JobStore(default_db_path())
        job = store.create_job(src, dst)
        process = launch_detached(store, job.id, src, dst)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{process.pid}/environ").read_bytes()
        assert process.wait(timeout=60) == 0
    assert b"imapcopy_tui.jobrunner" in cmdline  # read while it ran, not from a zombie
    assert b"XDG_DATA_HOME=" in environ
    for form in secret_forms(src) + secret_forms(dst):
        assert form not in cmdline and form not in environ
    finished = store.get(job.id)
    assert finished.state is JobState.FINISHED, finished.failure
    assert_identical(corpus, dovecot_dst, dst.login)
    assert_private_and_clean(tmp_path, src, dst)
    (report,) = reports(dovecot_dst, dst.login)
    for form in secret_forms(src) + secret_forms(dst):
        assert form not in report.raw


@pytest.mark.parametrize(
    ("case", "mask"), [("wrong-password", 0o022), ("connection-refused", 0o000)]
)
def test_failed_job_leaves_no_password_anywhere(
    tmp_path: Path,
    dovecot_utf8: DovecotServer,
    dovecot_dst: DovecotServer,
    unique_user: str,
    default_locations: JobStore,
    capsys: pytest.CaptureFixture[str],
    case: str,
    mask: int,
) -> None:
    """A refused login, or a server that cannot be reached: the job fails with a reason that
    names the account and quotes no password, in the job table, the status command and every
    file (0600 in 0700 directories whatever the umask)."""
    src = account(dovecot_utf8, unique_user)
    if case == "wrong-password":
        dst = account(dovecot_dst, unique_user, "destination", password="Wr0ng-pässword-9")
    else:
        dst = account(dovecot_dst, unique_user, "destination", port=free_ports(1)[0])
    store = default_locations
    with umask(mask):
        job = store.create_job(src, dst)
        process = launch_detached(store, job.id, src, dst)
        assert process.wait(timeout=60) == 0
    failed = store.get(job.id)
    assert failed.state is JobState.FAILED
    assert f"destination account {unique_user} on" in (failed.failure or "")
    assert cli.main(["status", unique_user]) == 0
    shown = capsys.readouterr().out
    assert "failed" in shown
    for form in secret_forms(src) + secret_forms(dst):
        assert form.decode() not in (failed.failure or "") and form.decode() not in shown
    assert_private_and_clean(tmp_path, src, dst)


def test_imap_trace_hides_logins_and_is_private(
    tmp_path: Path,
    dovecot_dst: DovecotServer,
    copy_job: tuple[Account, Account, Corpus],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """imapcopy sync --debugimap FILE: the conversation of both accounts, with LOGIN (the
    destination) and AUTHENTICATE PLAIN (the source's non-ASCII password) hidden, no
    password in any form, message bodies cut to their size and start, the file 0600."""
    src, dst, corpus = copy_job
    trace_file = tmp_path / "imap.trace"
    code = cli.main([
        "sync", "--debugimap", str(trace_file),
        "--host1", src.host, "--port1", str(src.port), "--user1", src.login, "--plain1",
        "--host2", dst.host, "--port2", str(dst.port), "--user2", dst.login, "--plain2",
    ])
    assert code == 0, capsys.readouterr().err
    assert stat.S_IMODE(trace_file.stat().st_mode) == 0o600
    data = trace_file.read_bytes()
    for form in secret_forms(src) + secret_forms(dst):
        assert form not in data
    lines = data.decode().splitlines()
    commands = [line.split(" ", 2)[1:] for line in lines if " C: " in line]  # [name, text]
    logins = [(name, text) for name, text in commands if " LOGIN" in text.upper()]
    assert logins and all(text.endswith(" LOGIN [hidden]") for _, text in logins)
    assert {name.split("#")[0] for name, _ in logins} == {"destination"}
    plain = [i for i, (_, text) in enumerate(commands) if text.endswith(" AUTHENTICATE PLAIN")]
    assert plain and {commands[i][0].split("#")[0] for i in plain} == {"source"}
    for index in plain:  # the connection's next line is the base64 response: hidden
        name = commands[index][0]
        assert next(text for n, text in commands[index + 1 :] if n == name) == "C: [hidden]"
    assert any("connected to" in line and "(plain)" in line for line in lines)
    assert any(" S: * OK " in line for line in lines)  # the greeting
    # Bodies: sizes and first bytes only.  The corpus's largest message is far longer than
    # any line of the trace.
    largest = max((r for records in corpus.messages.values() for r in records),
                  key=lambda r: len(r.raw))
    assert f"[literal {len(largest.raw)} bytes]" in data.decode()
    assert max(len(line) for line in lines) < 700
    assert_identical(corpus, dovecot_dst, dst.login)
