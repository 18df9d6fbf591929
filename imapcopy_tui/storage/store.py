"""The job store: the one module that writes SQL.

One SQLite file (0600, in a 0700 directory) holds the job table, live per-folder counters,
the issues of each job, and the ledger of source messages known to be on the destination.
No password or token is ever written here: accounts are stored as host, port and login.

A file that is not this tool's database (another program's, damaged, unreadable, a
directory) is refused with a :class:`~imapcopy_tui.errors.ConfigError` naming it, before
anything is written to it: it is never converted, repaired or overwritten.

Each thread opens its own connection (SQLite objects stay in the thread that made them);
WAL mode lets another process read live progress while a copy writes it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from imapcopy_tui.engine.account import Account, check_distinct
from imapcopy_tui.engine.ledger import FolderPair, FolderSnapshot, LedgerEntry, LedgerScope
from imapcopy_tui.engine.progress import CopyIssue, FolderCounts
from imapcopy_tui.errors import ConfigError, JobExistsError, JobNotFoundError, StorageError
from imapcopy_tui.locations import ensure_private_dir
from imapcopy_tui.storage.liveness import ProcessIdentity

JOB_EXISTS_MESSAGE = "a sync task for this account already exists"
_ELSEWHERE = "choose another file with --db or IMAPCOPY_DB"
BUSY_TIMEOUT_SECONDS = 30  # how long a write waits for another writer before giving up


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FINISHED_WITH_ERRORS = "finished with errors"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


# Ordered schema upgrades: step N brings user_version from N to N + 1.
_SCHEMA_STEPS: tuple[str, ...] = (
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        source_host TEXT NOT NULL,
        source_port INTEGER NOT NULL,
        source_login TEXT NOT NULL,
        destination_host TEXT NOT NULL,
        destination_port INTEGER NOT NULL,
        destination_login TEXT NOT NULL,
        state TEXT NOT NULL,
        failure TEXT,
        dry_run INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        heartbeat_at TEXT,
        runner_pid INTEGER,
        runner_start_ticks INTEGER,
        runner_host TEXT,
        folders_total INTEGER NOT NULL DEFAULT 0,
        folders_done INTEGER NOT NULL DEFAULT 0,
        messages_total INTEGER NOT NULL DEFAULT 0,
        messages_copied INTEGER NOT NULL DEFAULT 0,
        messages_present INTEGER NOT NULL DEFAULT 0,
        messages_failed INTEGER NOT NULL DEFAULT 0,
        bytes_copied INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX jobs_by_source ON jobs (source_login COLLATE NOCASE, state);
    CREATE TABLE job_folders (
        job_id INTEGER NOT NULL REFERENCES jobs (id),
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        destination_name TEXT NOT NULL,
        created INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        copied INTEGER NOT NULL DEFAULT 0,
        present INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        bytes_copied INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        PRIMARY KEY (job_id, name)
    );
    CREATE TABLE job_issues (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs (id),
        at TEXT NOT NULL,
        severity TEXT NOT NULL,
        folder TEXT,
        uid INTEGER,
        message TEXT NOT NULL
    );
    CREATE TABLE ledger (
        source_account TEXT NOT NULL,
        source_folder TEXT NOT NULL,
        source_uidvalidity INTEGER NOT NULL,
        destination_account TEXT NOT NULL,
        destination_folder TEXT NOT NULL,
        destination_uidvalidity INTEGER NOT NULL,
        source_uid INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        size INTEGER NOT NULL,
        job_id INTEGER NOT NULL,
        copied INTEGER NOT NULL,
        PRIMARY KEY (source_account, source_folder, source_uidvalidity, destination_account,
                     destination_folder, destination_uidvalidity, source_uid)
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE folder_snapshots (
        source_account TEXT NOT NULL,
        source_folder TEXT NOT NULL,
        destination_account TEXT NOT NULL,
        destination_folder TEXT NOT NULL,
        source_uidvalidity INTEGER NOT NULL,
        source_uidnext INTEGER NOT NULL,
        source_messages INTEGER NOT NULL,
        destination_uidvalidity INTEGER NOT NULL,
        destination_messages INTEGER NOT NULL,
        copied INTEGER NOT NULL,
        present INTEGER NOT NULL,
        bytes_copied INTEGER NOT NULL,
        job_id INTEGER NOT NULL,
        PRIMARY KEY (source_account, source_folder, destination_account, destination_folder)
    ) WITHOUT ROWID;
    """,
    """
    ALTER TABLE jobs ADD COLUMN waiting_until TEXT;
    ALTER TABLE jobs ADD COLUMN waiting_reason TEXT;
    """,
    # NULL in snapshots taken before: the re-run check then does without them.
    """
    ALTER TABLE folder_snapshots ADD COLUMN source_highestmodseq INTEGER;
    ALTER TABLE folder_snapshots ADD COLUMN destination_uidnext INTEGER;
    """,
)


# The same two accounts, told apart as Account.key does (login and server in any case,
# and the port): a sync resumes the interrupted job of exactly these, and a later job of
# exactly these takes over one that did not finish.  Parameters: the source's login, host
# and port, then the destination's.
_SAME_ACCOUNTS = (
    "source_login = ? COLLATE NOCASE AND source_host = ? COLLATE NOCASE AND source_port = ? "
    "AND destination_login = ? COLLATE NOCASE AND destination_host = ? COLLATE NOCASE "
    "AND destination_port = ?"
)

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26


def _os_reason(exc: OSError) -> str:
    return f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FolderRow:
    name: str
    destination_name: str
    created: bool
    done: bool
    total: int
    copied: int
    present: int
    failed: int
    bytes_copied: int
    error: str | None


@dataclass(frozen=True)
class IssueRow:
    at: str
    severity: str
    folder: str | None
    uid: int | None
    message: str

    def __str__(self) -> str:
        return str(CopyIssue(self.message, self.folder, self.uid))


@dataclass(frozen=True)
class Takeover:
    """The job that carried on the copy of one that did not finish: the newest later job
    between the same two accounts, its number and its state now."""

    id: int
    state: JobState


@dataclass(frozen=True)
class Job:
    """A job as the table holds it (never with a password)."""

    id: int
    source_host: str
    source_port: int
    source_login: str
    destination_host: str
    destination_port: int
    destination_login: str
    state: JobState
    failure: str | None
    dry_run: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None
    runner_pid: int | None
    runner_start_ticks: int | None
    runner_host: str | None
    folders_total: int
    folders_done: int
    messages_total: int
    messages_copied: int
    messages_present: int
    messages_failed: int
    bytes_copied: int
    waiting_until: str | None = None  # a server asked to wait, or a reconnect is due
    waiting_reason: str | None = None
    # Only for an interrupted or failed job that a later one took over: its advice (start
    # the sync again) is then stale.
    taken_over_by: Takeover | None = None
    folders: tuple[FolderRow, ...] = field(default=())
    issues: tuple[IssueRow, ...] = field(default=())

    @property
    def errors(self) -> tuple[IssueRow, ...]:
        return tuple(i for i in self.issues if i.severity == "error")


class JobStore:
    """Jobs, their progress and the ledger, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            ensure_private_dir(self.path.parent)
            if self.path.is_dir():
                raise self._unusable(f"it is a directory; remove it or {_ELSEWHERE}")
            try:
                # Create the file 0600 before SQLite opens it, whatever the umask.
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                pass  # an existing file is checked below, and never rewritten
        except OSError as exc:
            raise self._unusable(
                f"it cannot be created ({_os_reason(exc)}); check the path and its "
                f"permissions, or {_ELSEWHERE}"
            ) from exc
        version = self._check_file()
        mode = os.stat(self.path).st_mode
        if mode & 0o077:
            os.chmod(self.path, stat.S_IMODE(mode) & 0o700)  # only ever narrowed
        if version < len(_SCHEMA_STEPS):
            # Only then the write lock: opening a current database to read (a status
            # lookup, the app's poll) must not wait for a runner writing its progress.
            self._migrate()

    def _migrate(self) -> None:
        with self._transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # under the lock
            for step, script in enumerate(_SCHEMA_STEPS[version:], start=version):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")

    def _unusable(self, why: str) -> ConfigError:
        return ConfigError(f"the job database {self.path} cannot be used: {why}")

    def _check_file(self) -> int:
        """Refuse a file that is not this tool's database, by reading it only (no WAL
        switch, no schema change until it has passed); return its schema version."""
        moving = f"move it aside (a new one is then made) or {_ELSEWHERE}"
        try:
            probe = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            try:
                version = probe.execute("PRAGMA user_version").fetchone()[0]
                tables = {row[0] for row in probe.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )}
            finally:
                probe.close()
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code == _SQLITE_NOTADB:
                raise self._unusable(f"it is not an SQLite database; {moving}") from exc
            if code == _SQLITE_CORRUPT:
                raise self._unusable(f"it is damaged ({exc}); {moving}") from exc
            raise self._unusable(
                f"it cannot be opened ({exc}); check its permissions, or {_ELSEWHERE}"
            ) from exc
        if version > len(_SCHEMA_STEPS):
            raise self._unusable(
                f"it was written by a newer version of imapcopy (schema {version}); "
                f"use that version, or {_ELSEWHERE}"
            )
        if (version == 0 and tables) or (version > 0 and "jobs" not in tables):
            raise self._unusable(f"it is another program's database; {_ELSEWHERE}")
        return int(version)

    # --- connections ---------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            self._local.db = db
            for suffix in ("-wal", "-shm"):
                side = Path(f"{self.path}{suffix}")
                if side.exists():
                    os.chmod(side, 0o600)
        return db

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A transaction; ``write=False`` for reads, which must not take the write lock
        (the app polls twice a second while a runner writes progress).  SQLite's
        operational failures (read-only, locked, disk full) become a ``StorageError``."""
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # Whatever failed (the body, or COMMIT itself): the thread's connection
                # must not stay inside this transaction, or every later BEGIN would fail.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise self._failing(exc) from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection for a read outside a transaction, its operational
        failures a ``StorageError`` as in :meth:`_transaction`."""
        try:
            yield self._db()
        except sqlite3.OperationalError as exc:
            raise self._failing(exc) from exc

    def _failing(self, exc: sqlite3.OperationalError) -> StorageError:
        """``exc`` in the user's terms: which file, what happened, what to do."""
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            why = (
                f"it is busy: another program has held it for {BUSY_TIMEOUT_SECONDS} s ({exc}); "
                f"let that program finish, or {_ELSEWHERE}"
            )
        elif code == _SQLITE_READONLY:
            why = (
                f"it cannot be written ({exc}); check the permissions of the file and of its "
                f"directory, or {_ELSEWHERE}"
            )
        elif code == _SQLITE_FULL:
            why = f"the disk is full ({exc}); free some space, or {_ELSEWHERE}"
        else:
            why = f"it failed ({exc}); {_ELSEWHERE}"
        return StorageError(f"the job database {self.path} cannot be used: {why}")

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # --- jobs ----------------------------------------------------------------------

    def create_job(self, source: Account, destination: Account, *, dry_run: bool = False) -> Job:
        """Queue a job, or resume the interrupted one of the same pair of accounts.

        Raises :class:`JobExistsError` when the source account already has a job queued
        or running, :class:`SameAccountError` when both sides are one account.
        """
        check_distinct(source, destination)
        with self._transaction() as db:
            self._mark_dead_jobs(db)
            active = db.execute(
                "SELECT id, state FROM jobs WHERE source_login = ? COLLATE NOCASE "
                "AND source_host = ? COLLATE NOCASE AND state IN (?, ?)",
                (source.login, source.host, JobState.QUEUED, JobState.RUNNING),
            ).fetchone()
            if active is not None:
                # The guide's precise reason, then which job, for the status lookup.
                raise JobExistsError(
                    f"{JOB_EXISTS_MESSAGE} (job {active['id']}, {active['state']})"
                )
            resumable = None
            if not dry_run:
                resumable = db.execute(
                    f"SELECT id FROM jobs WHERE {_SAME_ACCOUNTS} AND state = ? AND dry_run = 0 "
                    "ORDER BY id DESC LIMIT 1",
                    (
                        source.login,
                        source.host,
                        source.port,
                        destination.login,
                        destination.host,
                        destination.port,
                        JobState.INTERRUPTED,
                    ),
                ).fetchone()
            # Until a runner takes the job, its creator answers for it: if the creator dies
            # first, the job reads as interrupted instead of blocking the account forever.
            creator = ProcessIdentity.current()
            if resumable is not None:
                job_id = int(resumable["id"])
                db.execute(
                    "UPDATE jobs SET state = ?, failure = NULL, finished_at = NULL, "
                    "runner_pid = ?, runner_start_ticks = ?, runner_host = ? WHERE id = ?",
                    (
                        JobState.QUEUED,
                        creator.pid,
                        creator.start_ticks,
                        socket.gethostname(),
                        job_id,
                    ),
                )
            else:
                cursor = db.execute(
                    "INSERT INTO jobs (source_host, source_port, source_login, "
                    "destination_host, destination_port, destination_login, state, dry_run, "
                    "created_at, runner_pid, runner_start_ticks, runner_host) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        source.host,
                        source.port,
                        source.login,
                        destination.host,
                        destination.port,
                        destination.login,
                        JobState.QUEUED,
                        int(dry_run),
                        _now(),
                        creator.pid,
                        creator.start_ticks,
                        socket.gethostname(),
                    ),
                )
                job_id = int(cursor.lastrowid or 0)
        return self.get(job_id)

    def start(self, job_id: int, runner: ProcessIdentity | None = None) -> None:
        """The job's runner (this process unless told otherwise) begins the copy."""
        runner = runner or ProcessIdentity.current()
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, started_at = COALESCE(started_at, ?), "
                "heartbeat_at = ?, runner_pid = ?, runner_start_ticks = ?, runner_host = ? "
                "WHERE id = ?",
                (
                    JobState.RUNNING,
                    _now(),
                    _now(),
                    runner.pid,
                    runner.start_ticks,
                    socket.gethostname(),
                    job_id,
                ),
            )

    def assign_runner(self, job_id: int, runner: ProcessIdentity) -> None:
        """Record which process will run a queued job (so its death is noticed)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET runner_pid = ?, runner_start_ticks = ?, runner_host = ? "
                "WHERE id = ?",
                (runner.pid, runner.start_ticks, socket.gethostname(), job_id),
            )

    def end(self, job_id: int, state: JobState, failure: str | None = None) -> None:
        """The job is over: finished, finished with errors, failed or interrupted."""
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, failure = ?, finished_at = ?, heartbeat_at = ? "
                "WHERE id = ?",
                (state, failure, _now(), _now(), job_id),
            )

    def note_wait(self, job_id: int, seconds: float, reason: str) -> None:
        """The job pauses ``seconds`` for ``reason``: the status lookup says so meanwhile."""
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET waiting_until = ?, waiting_reason = ? WHERE id = ?",
                (until.isoformat(timespec="seconds"), reason, job_id),
            )

    def save_progress(
        self,
        job_id: int,
        folders: Sequence[FolderCounts],
        issues: Sequence[CopyIssue] = (),
    ) -> None:
        """Write the live counters of every folder, the job's totals, and new issues."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO job_folders (job_id, position, name, destination_name, created, "
                "done, total, copied, present, failed, bytes_copied, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (job_id, name) DO UPDATE SET position = excluded.position, "
                "destination_name = excluded.destination_name, "
                "created = MAX(created, excluded.created), done = excluded.done, "
                "total = excluded.total, copied = excluded.copied, "
                "present = excluded.present, failed = excluded.failed, "
                "bytes_copied = excluded.bytes_copied, error = excluded.error",
                [
                    (
                        job_id,
                        position,
                        f.display_name,
                        f.destination_name,
                        int(f.created),
                        int(f.done),
                        f.total,
                        f.copied,
                        f.present,
                        f.failed,
                        f.bytes_copied,
                        f.error,
                    )
                    for position, f in enumerate(folders)
                ],
            )
            db.executemany(
                "INSERT INTO job_issues (job_id, at, severity, folder, uid, message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(job_id, _now(), i.severity.value, i.folder, i.uid, i.message) for i in issues],
            )
            db.execute(
                "UPDATE jobs SET heartbeat_at = ?, folders_total = ?, folders_done = ?, "
                "messages_total = ?, messages_copied = ?, messages_present = ?, "
                "messages_failed = ?, bytes_copied = ? WHERE id = ?",
                (
                    _now(),
                    len(folders),
                    sum(1 for f in folders if f.done),
                    sum(f.total for f in folders),
                    sum(f.copied for f in folders),
                    sum(f.present for f in folders),
                    sum(f.failed for f in folders),
                    sum(f.bytes_copied for f in folders),
                    job_id,
                ),
            )

    def clear_issues(self, job_id: int) -> None:
        """Forget a resumed job's old issues: the new run reports afresh."""
        with self._transaction() as db:
            db.execute("DELETE FROM job_issues WHERE job_id = ?", (job_id,))

    # --- reading -------------------------------------------------------------------

    def _dead_jobs(self, db: sqlite3.Connection) -> list[int]:
        """Active jobs whose runner process is gone."""
        here = socket.gethostname()
        rows = db.execute(
            "SELECT id, runner_pid, runner_start_ticks, runner_host FROM jobs "
            "WHERE state IN (?, ?)",
            (JobState.QUEUED, JobState.RUNNING),
        ).fetchall()
        dead = []
        for row in rows:
            if row["runner_pid"] is None or (row["runner_host"] and row["runner_host"] != here):
                continue  # not claimed yet, or run by another machine we cannot see
            runner = ProcessIdentity(int(row["runner_pid"]), row["runner_start_ticks"])
            if not runner.is_alive():
                dead.append(int(row["id"]))
        return dead

    def _mark_dead_jobs(self, db: sqlite3.Connection) -> None:
        """Active jobs whose runner process is gone are interrupted, not running forever."""
        for job_id in self._dead_jobs(db):
            db.execute(
                "UPDATE jobs SET state = ?, failure = ?, finished_at = ? WHERE id = ?",
                (
                    JobState.INTERRUPTED,
                    "the process running the copy stopped before the end",
                    _now(),
                    job_id,
                ),
            )

    def refresh(self) -> None:
        """Mark jobs whose runner died as interrupted."""
        with self._transaction() as db:
            self._mark_dead_jobs(db)

    def _job(self, db: sqlite3.Connection, row: sqlite3.Row) -> Job:
        values = dict(row)
        folders = tuple(
            FolderRow(
                name=r["name"],
                destination_name=r["destination_name"],
                created=bool(r["created"]),
                done=bool(r["done"]),
                total=r["total"],
                copied=r["copied"],
                present=r["present"],
                failed=r["failed"],
                bytes_copied=r["bytes_copied"],
                error=r["error"],
            )
            for r in db.execute(
                "SELECT * FROM job_folders WHERE job_id = ? ORDER BY position", (row["id"],)
            )
        )
        issues = tuple(
            IssueRow(r["at"], r["severity"], r["folder"], r["uid"], r["message"])
            for r in db.execute(
                "SELECT * FROM job_issues WHERE job_id = ? ORDER BY id", (row["id"],)
            )
        )
        values["state"] = JobState(values["state"])
        values["dry_run"] = bool(values["dry_run"])
        return Job(
            **values,
            taken_over_by=self._taken_over_by(db, row),
            folders=folders,
            issues=issues,
        )

    def _taken_over_by(self, db: sqlite3.Connection, row: sqlite3.Row) -> Takeover | None:
        """The newest later job between the same accounts, for a job that did not finish.

        The newest, not the next: it tells where the copy stands now.  A dry run copies
        nothing, so it takes nothing over.  A failed job is never resumed: the next sync of
        its accounts is a new job, which takes it over.  A sync resumes an interrupted job
        in place (same number), so an interrupted job is taken over only when it could not
        be resumed (a dry run's job, never resumed by a real copy).
        """
        if row["state"] not in (JobState.INTERRUPTED, JobState.FAILED):
            return None
        later = db.execute(
            f"SELECT id, state FROM jobs WHERE id > ? AND dry_run = 0 AND {_SAME_ACCOUNTS} "
            "ORDER BY id DESC LIMIT 1",
            (
                row["id"],
                row["source_login"],
                row["source_host"],
                row["source_port"],
                row["destination_login"],
                row["destination_host"],
                row["destination_port"],
            ),
        ).fetchone()
        return None if later is None else Takeover(int(later["id"]), JobState(later["state"]))

    def _settle_dead_jobs(self) -> None:
        """Mark dead runners' jobs interrupted, taking the write lock only if there are any."""
        with self._transaction(write=False) as db:
            dead = self._dead_jobs(db)
        if dead:
            self.refresh()

    def get(self, job_id: int) -> Job:
        self._settle_dead_jobs()
        with self._transaction(write=False) as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFoundError(f"no job number {job_id}")
            return self._job(db, row)

    def jobs(self, source_login: str | None = None) -> list[Job]:
        """Every job, newest first; only those of one source address if given."""
        self._settle_dead_jobs()
        with self._transaction(write=False) as db:
            if source_login is None:
                rows = db.execute("SELECT * FROM jobs ORDER BY id DESC").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM jobs WHERE source_login = ? COLLATE NOCASE ORDER BY id DESC",
                    (source_login,),
                ).fetchall()
            return [self._job(db, row) for row in rows]

    def latest_for_source(self, source_login: str) -> Job:
        """The newest job of a source address (the guide's status lookup)."""
        found = self.jobs(source_login)
        if not found:
            raise JobNotFoundError(f"no sync task for {source_login}")
        return found[0]

    # --- ledger --------------------------------------------------------------------

    def ledger_entries(self, scope: LedgerScope, job_id: int) -> dict[int, LedgerEntry]:
        with self._reading() as db:
            rows = db.execute(
                "SELECT source_uid, fingerprint, size, job_id, copied FROM ledger "
                "WHERE source_account = ? AND source_folder = ? AND source_uidvalidity = ? "
                "AND destination_account = ? AND destination_folder = ? "
                "AND destination_uidvalidity = ?",
                _scope_key(scope),
            ).fetchall()
        return {
            r["source_uid"]: LedgerEntry(
                uid=r["source_uid"],
                fingerprint=r["fingerprint"],
                size=r["size"],
                copied_by_this_job=bool(r["copied"]) and r["job_id"] == job_id,
            )
            for r in rows
        }

    def record_ledger(
        self, scope: LedgerScope, entries: Sequence[LedgerEntry], job_id: int
    ) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO ledger (source_account, source_folder, "
                "source_uidvalidity, destination_account, destination_folder, "
                "destination_uidvalidity, source_uid, fingerprint, size, job_id, copied) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        *_scope_key(scope),
                        e.uid,
                        e.fingerprint,
                        e.size,
                        job_id,
                        int(e.copied_by_this_job),
                    )
                    for e in entries
                ],
            )

    def folder_snapshot(self, pair: FolderPair, job_id: int) -> FolderSnapshot | None:
        with self._reading() as db:
            row = db.execute(
                "SELECT * FROM folder_snapshots WHERE source_account = ? AND source_folder = ? "
                "AND destination_account = ? AND destination_folder = ?",
                _pair_key(pair),
            ).fetchone()
        if row is None:
            return None
        return FolderSnapshot(
            source_uidvalidity=row["source_uidvalidity"],
            source_uidnext=row["source_uidnext"],
            source_messages=row["source_messages"],
            destination_uidvalidity=row["destination_uidvalidity"],
            destination_messages=row["destination_messages"],
            copied=row["copied"],
            present=row["present"],
            bytes_copied=row["bytes_copied"],
            by_this_job=row["job_id"] == job_id,
            source_highestmodseq=row["source_highestmodseq"],
            destination_uidnext=row["destination_uidnext"],
        )

    def known_destinations(
        self, source_account: str, source_folder: str, destination_account: str
    ) -> list[str]:
        """Where this source folder was copied by any job between these accounts, the most
        recent job first: the ledger (even an interrupted pass leaves entries) and the
        snapshots (a pass that found everything there already may have no new entry)."""
        key = (source_account, source_folder, destination_account)
        with self._reading() as db:
            rows = db.execute(
                "SELECT destination_folder, MAX(job_id) AS latest FROM ("
                " SELECT destination_folder, job_id FROM folder_snapshots"
                " WHERE source_account = ? AND source_folder = ? AND destination_account = ?"
                " UNION ALL"
                " SELECT destination_folder, job_id FROM ledger"
                " WHERE source_account = ? AND source_folder = ? AND destination_account = ?"
                ") GROUP BY destination_folder ORDER BY latest DESC, destination_folder",
                key + key,
            ).fetchall()
        return [r["destination_folder"] for r in rows]

    def save_folder_snapshot(self, pair: FolderPair, snapshot: FolderSnapshot, job_id: int) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO folder_snapshots (source_account, source_folder, "
                "destination_account, destination_folder, source_uidvalidity, "
                "source_uidnext, source_messages, destination_uidvalidity, "
                "destination_messages, copied, present, bytes_copied, job_id, "
                "source_highestmodseq, destination_uidnext) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *_pair_key(pair),
                    snapshot.source_uidvalidity,
                    snapshot.source_uidnext,
                    snapshot.source_messages,
                    snapshot.destination_uidvalidity,
                    snapshot.destination_messages,
                    snapshot.copied,
                    snapshot.present,
                    snapshot.bytes_copied,
                    job_id,
                    snapshot.source_highestmodseq,
                    snapshot.destination_uidnext,
                ),
            )


def _pair_key(pair: FolderPair) -> tuple[str, str, str, str]:
    return (
        pair.source_account,
        pair.source_folder,
        pair.destination_account,
        pair.destination_folder,
    )


def _scope_key(scope: LedgerScope) -> tuple[str, str, int, str, str, int]:
    return (
        scope.source_account,
        scope.source_folder,
        scope.source_uidvalidity,
        scope.destination_account,
        scope.destination_folder,
        scope.destination_uidvalidity,
    )


class JobLedger:
    """The engine's :class:`~imapcopy_tui.engine.ledger.Ledger`, kept in the job store."""

    def __init__(self, store: JobStore, job_id: int) -> None:
        self.store = store
        self.job_id = job_id

    def entries(self, scope: LedgerScope) -> dict[int, LedgerEntry]:
        return self.store.ledger_entries(scope, self.job_id)

    def record(self, scope: LedgerScope, entries: Sequence[LedgerEntry]) -> None:
        self.store.record_ledger(scope, entries, self.job_id)

    def snapshot(self, pair: FolderPair) -> FolderSnapshot | None:
        return self.store.folder_snapshot(pair, self.job_id)

    def save_snapshot(self, pair: FolderPair, snapshot: FolderSnapshot) -> None:
        self.store.save_folder_snapshot(pair, snapshot, self.job_id)

    def destinations(
        self, source_account: str, source_folder: str, destination_account: str
    ) -> list[str]:
        return self.store.known_destinations(source_account, source_folder, destination_account)
