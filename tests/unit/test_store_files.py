"""The files the tool keeps: private whatever the umask, and a job database that is not ours
refused with one clear line, the file left exactly as it was."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from imapcopy_tui import cli
from imapcopy_tui.config.settings import RememberedAccount, Settings, save_settings
from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.ledger import LedgerEntry, LedgerScope
from imapcopy_tui.engine.progress import FolderCounts
from imapcopy_tui.errors import ConfigError
from imapcopy_tui.storage.store import JobStore

SRC = Account(host="imap.a.example", login="alice@a.example", password="s3cret-src")
DST = Account(host="imap.b.example", login="alice@b.example", password="s3cret-dst")


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_files_are_0600_in_0700_directories(tmp_path: Path, umask: int) -> None:
    """The database (with its WAL and SHM while open) and the settings: 0600; every
    directory the tool creates, missing parents included: 0700."""
    data, config = tmp_path / "data" / "deep" / "imapcopy", tmp_path / "config" / "imapcopy"
    old = os.umask(umask)
    try:
        store = JobStore(data / "jobs.sqlite3")
        job = store.create_job(SRC, DST)
        store.start(job.id)
        store.save_progress(job.id, [FolderCounts("INBOX", "INBOX", total=1)])
        save_settings(Settings(source=RememberedAccount(login="alice")), config / "settings.toml")
    finally:
        os.umask(old)
    files = sorted(p.name for p in data.iterdir())
    assert files == ["jobs.sqlite3", "jobs.sqlite3-shm", "jobs.sqlite3-wal"]
    for path in [*data.iterdir(), *config.iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for directory in (tmp_path / "data", tmp_path / "data" / "deep", data, tmp_path / "config",
                      config):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    store.close()


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _truncated(path: Path) -> None:
    store = JobStore(path)
    scope = LedgerScope("a", "INBOX", 1, "b", "INBOX", 2)
    store.record_ledger(scope, [LedgerEntry(uid, "f" * 64, 100, True) for uid in range(3000)], 1)
    store.close()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _other_program(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE bookmarks (url TEXT, title TEXT)")
    db.execute("INSERT INTO bookmarks VALUES ('https://example.org', 'Example')")
    db.commit()
    db.close()


def _other_program_with_a_version(path: Path) -> None:
    _other_program(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 1")
    db.close()


def _newer_imapcopy(path: Path) -> None:
    JobStore(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "keep").write_text("x")


def _parent_is_a_file(path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    path.parent.rename(path.parent.with_name("moved"))
    path.parent.write_text("a file where the directory should be")


def _unreadable(path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode (the directory case covers it)")
    _other_program(path)
    path.chmod(0)


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "random-bytes": (_random, "it is not an SQLite database; move it aside"),
    "truncated": (_truncated, "it is damaged (database disk image is malformed); move it aside"),
    "other-program": (_other_program, "it is another program's database"),
    "other-program-versioned": (_other_program_with_a_version, "another program's database"),
    "newer-imapcopy": (_newer_imapcopy, "written by a newer version of imapcopy (schema 99)"),
    "directory": (_directory, "it is a directory; remove it"),
    "parent-is-a-file": (_parent_is_a_file, "it cannot be created (File exists: "),
    "unreadable": (_unreadable, "it cannot be opened (unable to open database file)"),
}


def _snapshot(directory: Path) -> dict[str, tuple[bytes | None, int, int]]:
    """Every entry below ``directory``: a file's content, mtime and mode; a directory's
    mode (its mtime moves when SQLite opens and removes a WAL beside a WAL-mode file)."""
    found: dict[str, tuple[bytes | None, int, int]] = {}
    for path in [directory, *sorted(directory.rglob("*"))]:
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode):
            found[str(path.relative_to(directory))] = (None, 0, info.st_mode)
            continue
        content = path.read_bytes() if info.st_mode & 0o400 else None
        found[str(path.relative_to(directory))] = (content, info.st_mtime_ns, info.st_mode)
    return found


@pytest.fixture(params=list(BROKEN))
def broken_db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """(path, the words the error must contain) for each way a database can be unusable."""
    path = tmp_path / "box" / "jobs.sqlite3"
    path.parent.mkdir()
    make, words = BROKEN[request.param]
    make(path)
    return path, words


def test_unusable_database_is_refused_and_left_alone(broken_db: tuple[Path, str]) -> None:
    """One line naming the file, what is wrong and what to do; nothing written: same bytes,
    mtime and mode, no WAL or journal left beside it, a directory's mode unchanged."""
    path, words = broken_db
    before = _snapshot(path.parent.parent)
    with pytest.raises(ConfigError) as caught:
        JobStore(path)
    message = str(caught.value)
    assert message.startswith(f"the job database {path} cannot be used: ")
    assert words in message
    assert "--db or IMAPCOPY_DB" in message and "\n" not in message
    assert _snapshot(path.parent.parent) == before


def test_cli_reports_it_with_the_config_exit_code(
    broken_db: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """imapcopy status and imapcopy sync: exit 2 and the one line, before connecting to
    anything; the file is untouched."""
    path, words = broken_db
    monkeypatch.setenv("IMAPCOPY_DB", str(path))
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw1")
    monkeypatch.setenv("IMAPCOPY_PASSWORD2", "pw2")
    before = _snapshot(path.parent.parent)
    sync = ["sync", "--host1", "imap.a.invalid", "--user1", "a", "--host2", "imap.b.invalid",
            "--user2", "b"]
    for args in (["status", "alice"], ["jobs"], sync):
        assert cli.main(args) == cli.ExitCode.USAGE, args
        err = capsys.readouterr().err
        assert err.startswith(f"imapcopy: error: the job database {path} cannot be used")
        assert words in err and len(err.splitlines()) == 1
    assert _snapshot(path.parent.parent) == before


def test_a_good_database_is_opened_and_a_lax_mode_narrowed(tmp_path: Path) -> None:
    """Ours, reopened: accepted; a mode opened to the group or others is narrowed to 0600,
    never widened (0400 stays 0400)."""
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).create_job(SRC, DST)
    path.chmod(0o644)
    assert len(JobStore(path).jobs()) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o400)
    JobStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o400


def test_a_database_held_by_another_program_is_one_line_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another program holds the write lock (here past a 0.2 s wait instead of 30 s): the
    lookups still answer (they only read), a sync says so on one line naming the file
    (exit 6, nothing connected), and the jobs recorded are still there once it lets go."""
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).create_job(SRC, DST)
    monkeypatch.setattr("imapcopy_tui.storage.store.BUSY_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setenv("IMAPCOPY_DB", str(path))
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw1")
    monkeypatch.setenv("IMAPCOPY_PASSWORD2", "pw2")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        sync = ["sync", "--host1", "imap.a.invalid", "--user1", "a", "--host2",
                "imap.b.invalid", "--user2", "b"]
        assert cli.main(["status", "alice@a.example"]) == cli.ExitCode.OK
        assert cli.main(["jobs"]) == cli.ExitCode.OK
        assert "alice@a.example" in capsys.readouterr().out
        assert cli.main(sync) == cli.ExitCode.FAILED
        assert capsys.readouterr().err == (
            f"imapcopy: error: the job database {path} cannot be used: it is busy: another "
            "program has held it for 0.2 s (database is locked); let that program finish, "
            "or choose another file with --db or IMAPCOPY_DB\n"
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [j.source_login for j in JobStore(path).jobs()] == ["alice@a.example"]


def test_lookups_create_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """status and jobs where there is no database yet (a first use, a mistyped --db):
    the answer, and no file or directory made."""
    missing = tmp_path / "typo" / "jobs.sqlite3"
    assert cli.main(["--db", str(missing), "status", "alice"]) == cli.ExitCode.NOT_FOUND
    assert cli.main(["--db", str(missing), "jobs"]) == cli.ExitCode.OK
    assert cli.main(["--db", str(missing), "jobs", "--json"]) == cli.ExitCode.OK
    assert capsys.readouterr().out == "There is no sync task for alice.\nNo sync task yet.\n[]\n"
    assert not missing.parent.exists()


def test_a_commit_that_fails_is_rolled_back_and_the_store_goes_on(tmp_path: Path) -> None:
    """A COMMIT refused by SQLite leaves the thread's connection outside any transaction:
    what the failed transaction wrote is gone, and the next write works.  (It used to stay
    inside the transaction, and every later BEGIN of that thread failed.)

    The refusal is a real one: a deferred foreign key, checked only at COMMIT."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create_job(SRC, DST)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        with store._transaction() as db:
            db.execute("PRAGMA defer_foreign_keys = ON")
            db.execute("UPDATE jobs SET failure = 'written by the failed transaction'")
            db.execute(
                "INSERT INTO job_issues (job_id, at, severity, message) "
                "VALUES (9999, '2026-01-01T00:00:00', 'error', 'no such job')"
            )
    assert not store._db().in_transaction
    assert store.get(job.id).failure is None  # rolled back, not committed later
    store.start(job.id)  # the next write transaction of this thread
    assert store.get(job.id).state.value == "running"
    store.close()
