"""Interrupted copies: connections cut mid-folder, a runner killed, a refused login."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.progress import CopyListener, ListenerGroup
from imapcopy_tui.engine.session import ImapSession, open_session
from imapcopy_tui.errors import ConnectionLostError
from imapcopy_tui.runner import run_job
from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus
from tests.dovecot import DovecotServer
from tests.helpers import FAST, account, assert_identical, new_store, sync

pytestmark = pytest.mark.dovecot


@dataclass
class Cuts:
    """Cut the destination connection at these APPEND numbers (counted over the job)."""

    at: set[int]
    after_append: bool  # True: the message lands, then the answer is lost
    appends: int = 0
    multiappend: bool = False  # let the copier use MULTIAPPEND (cuts then hit a batch)
    multiappends: int = 0
    pipelined: bool = False  # without MULTIAPPEND, let it pipeline APPENDs (LITERAL+)
    pipelines: int = 0


def flaky_connector(cuts: Cuts) -> Any:
    class FlakyDestination(ImapSession):
        @property
        def can_append_many(self) -> bool:
            return cuts.multiappend and super().can_append_many

        def append_many(self, folder: str, messages: Any) -> None:
            cuts.multiappends += 1
            first = cuts.appends + 1
            cuts.appends += len(messages)
            if not cuts.at & set(range(first, cuts.appends + 1)):
                return super().append_many(folder, messages)
            if cuts.after_append:
                super().append_many(folder, messages)
                self._client.socket().shutdown(socket.SHUT_RDWR)
                raise ConnectionLostError("test: the answer to MULTIAPPEND was lost")
            self._client.socket().shutdown(socket.SHUT_RDWR)
            return super().append_many(folder, messages)

        @property
        def can_pipeline_appends(self) -> bool:
            return cuts.pipelined and super().can_pipeline_appends

        def append_each(self, folder: str, messages: Any) -> Any:
            cuts.pipelines += 1
            first = cuts.appends + 1
            cuts.appends += len(messages)
            if not cuts.at & set(range(first, cuts.appends + 1)):
                return super().append_each(folder, messages)
            if cuts.after_append:
                super().append_each(folder, messages)
                self._client.socket().shutdown(socket.SHUT_RDWR)
                raise ConnectionLostError("test: the answers to the APPENDs were lost")
            self._client.socket().shutdown(socket.SHUT_RDWR)
            return super().append_each(folder, messages)

        def append(self, folder: str, message: bytes, flags: Any, internal_date: Any) -> int | None:
            cuts.appends += 1
            if cuts.appends not in cuts.at:
                return super().append(folder, message, flags, internal_date)
            if cuts.after_append:
                super().append(folder, message, flags, internal_date)
                self._client.socket().shutdown(socket.SHUT_RDWR)
                raise ConnectionLostError("test: the answer to APPEND was lost")
            self._client.socket().shutdown(socket.SHUT_RDWR)
            return super().append(folder, message, flags, internal_date)

    def connect(acct: Account, **kwargs: Any) -> ImapSession:
        session = open_session(acct, **kwargs)
        if acct.role == "destination":
            return FlakyDestination(acct, session._client)
        return session

    return connect


class Reconnects(CopyListener):
    def __init__(self) -> None:
        self.attempts: list[int] = []

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        self.attempts.append(attempt)


@pytest.mark.parametrize("after_append", [False, True], ids=["before-append", "after-append"])
def test_cut_connections_are_reopened_and_nothing_is_doubled(
    tmp_path: Path,
    after_append: bool,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """Cuts before an APPEND and after one landed (answer lost) are retried with back-off;
    the job finishes with every message exactly once."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    cuts = Cuts(at={3, 4, 20}, after_append=after_append)
    listener = Reconnects()
    outcome = run_job(store, job.id, src, dst, CopyOptions(connections=1, **FAST),
                      listener=listener, connect=flaky_connector(cuts))
    assert outcome.state is JobState.FINISHED, outcome.failure
    # Before the APPEND, cut 4 follows cut 3 with no progress between: it is attempt 2.
    # After it, message 3 is found present on resuming, which is progress.
    assert listener.attempts == ([1, 1, 1] if after_append else [1, 2, 1])
    assert_identical(corpus, dovecot_dst, unique_user)


def test_reconnects_are_bounded(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """A connection that keeps dropping without progress ends the job as failed, naming
    the account, after max_reconnects attempts."""
    src_user, _ = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    listener = Reconnects()
    outcome = run_job(store, job.id, src, dst, CopyOptions(max_reconnects=2, connections=1, **FAST),
                      listener=listener, connect=flaky_connector(Cuts(set(range(1, 100)), False)))
    assert outcome.state is JobState.FAILED
    assert listener.attempts == [1, 2]
    assert "destination account" in (outcome.failure or "")
    assert store.get(job.id).state is JobState.FAILED


KILLER = textwrap.dedent(
    """
    import json, os, signal, sys
    from imapcopy_tui.engine.account import Account, Security
    from imapcopy_tui.engine.copier import CopyOptions
    from imapcopy_tui.engine.progress import CopyListener
    from imapcopy_tui.runner import run_job
    from imapcopy_tui.storage.store import JobStore

    spec = json.loads(sys.stdin.read())  # passwords arrive on stdin, never in argv

    class KillMidFolder(CopyListener):
        def message_done(self, counts, uid, outcome, size):
            if counts.display_name == spec["folder"] and counts.copied >= spec["after"]:
                os.kill(os.getpid(), signal.SIGKILL)

    src = Account(**spec["src"], security=Security.PLAIN, role="source")
    dst = Account(**spec["dst"], security=Security.PLAIN, role="destination")
    store = JobStore(spec["db"])
    job = store.create_job(src, dst)
    run_job(store, job.id, src, dst, CopyOptions(fetch_batch_count=3), listener=KillMidFolder())
    """
)


def test_killed_runner_is_seen_interrupted_and_resumes_exactly_once(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """SIGKILL in the middle of INBOX: the job reads as interrupted at once, the next sync
    resumes the same job, and every message ends on the destination exactly once."""
    src_user, corpus = corpus_source
    db = tmp_path / "jobs.sqlite3"

    def side(server: DovecotServer, user: str) -> dict[str, Any]:
        return {"host": server.host, "port": server.plain_port, "login": user,
                "password": server.password}

    spec = {"src": side(dovecot_src, src_user), "dst": side(dovecot_dst, unique_user),
            "db": str(db), "folder": "INBOX", "after": 4}
    child = subprocess.run([sys.executable, "-c", KILLER], input=json.dumps(spec), text=True,
                           capture_output=True, timeout=120, cwd=Path(__file__).parents[2])
    assert child.returncode == -9, child.stderr
    store = new_store(tmp_path)
    (job,) = store.jobs()
    assert job.state is JobState.INTERRUPTED
    client = dovecot_dst.client(unique_user)
    landed = client.select_folder("INBOX", readonly=True)[b"EXISTS"]
    client.logout()
    assert 4 <= landed < len(corpus.messages[("INBOX",)])  # killed mid-folder

    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    outcome = sync(store, src, dst)
    assert outcome.job_id == job.id
    assert outcome.state is JobState.FINISHED
    resumed = store.get(job.id)
    assert resumed.messages_copied + resumed.messages_present == corpus.message_count
    assert resumed.messages_failed == 0
    assert_identical(corpus, dovecot_dst, unique_user)


def test_refused_login_ends_the_job_at_once(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """A wrong destination password fails the job immediately, without retries, saying
    which account was refused; nothing is written to the destination."""
    src_user, _ = corpus_source
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user)
    dst = account(dovecot_dst, unique_user, "destination", password="wrong")
    job = store.create_job(src, dst)
    listener = Reconnects()
    outcome = run_job(store, job.id, src, dst, CopyOptions(**FAST), listener=listener)
    assert outcome.state is JobState.FAILED
    assert listener.attempts == []
    assert f"destination account {unique_user}" in (outcome.failure or "")
    recorded = store.get(job.id)
    assert recorded.state is JobState.FAILED and "refused the login" in (recorded.failure or "")


def test_message_that_always_breaks_the_connection_is_skipped(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """A message on which the connection drops every time is recorded as failed after
    three drops; the job goes on and copies everything else."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    outcome = run_job(store, job.id, src, dst, CopyOptions(connections=1, **FAST),
                      connect=flaky_connector(Cuts({3, 4, 5}, after_append=False)))
    assert outcome.state is JobState.FINISHED_WITH_ERRORS
    (error,) = outcome.result.errors
    assert error.folder == "INBOX" and "broke 3 times" in error.message
    assert outcome.result.total("copied") == corpus.message_count - 1


@pytest.mark.parametrize("after_append", [False, True], ids=["before-landing", "after-landing"])
def test_cut_multiappend_resumes_without_doubles(
    tmp_path: Path,
    after_append: bool,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """A connection cut during a MULTIAPPEND batch (before it landed, or after, with the
    answer lost): the folder goes on message by message and ends exactly once."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    cuts = Cuts(at={2}, after_append=after_append, multiappend=True)
    listener = Reconnects()
    outcome = run_job(store, job.id, src, dst, CopyOptions(connections=1, **FAST),
                      listener=listener, connect=flaky_connector(cuts))
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert listener.attempts == [1]
    assert cuts.multiappends >= 2  # other folders still went as whole batches
    assert_identical(corpus, dovecot_dst, unique_user)


@pytest.mark.parametrize("after_append", [False, True], ids=["before-landing", "after-landing"])
def test_cut_pipelined_appends_resume_without_doubles(
    tmp_path: Path,
    after_append: bool,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """A destination without MULTIAPPEND but with LITERAL+ (Exchange) gets a batch as
    pipelined APPENDs; a connection cut during one (before the messages landed, or after,
    with the answers lost): the folder goes on message by message and ends exactly once,
    in order."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    cuts = Cuts(at={2}, after_append=after_append, pipelined=True)
    listener = Reconnects()
    outcome = run_job(store, job.id, src, dst, CopyOptions(connections=1, **FAST),
                      listener=listener, connect=flaky_connector(cuts))
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert listener.attempts == [1]
    assert cuts.multiappends == 0 and cuts.pipelines >= 2  # other folders still pipelined
    assert_identical(corpus, dovecot_dst, unique_user)


@pytest.mark.parametrize("after_append", [False, True], ids=["before-landing", "after-landing"])
def test_cuts_while_four_pairs_copy_in_parallel(
    tmp_path: Path,
    after_append: bool,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """Four connection pairs copy folders in parallel while connections are cut: every
    message still ends exactly once, in order, and the counters are exact."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    cuts = Cuts(at={1, 5, 12, 20}, after_append=after_append, multiappend=True)
    outcome = run_job(store, job.id, src, dst, CopyOptions(connections=4, **FAST),
                      connect=flaky_connector(cuts))
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert_identical(corpus, dovecot_dst, unique_user)
    recorded = store.get(job.id)
    assert recorded.messages_copied + recorded.messages_present == corpus.message_count
    assert recorded.messages_total == corpus.message_count
    assert recorded.folders_done == recorded.folders_total == len(corpus.messages)


def test_destination_server_restarting_mid_copy(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The destination Dovecot is stopped and started again in the middle of INBOX: the
    copy reconnects (refused while it is down, then back) and ends exactly once."""
    src_user, corpus = corpus_source

    reached, restarted = threading.Event(), threading.Event()

    class PauseForRestart(CopyListener):
        def message_done(self, counts: Any, uid: int, outcome: Any, size: int) -> None:
            if not reached.is_set() and counts.display_name == "INBOX" and counts.copied >= 3:
                reached.set()
                restarted.wait(30)

    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    listener = Reconnects()
    outcomes = []
    copying = threading.Thread(target=lambda: outcomes.append(run_job(
        store, job.id, src, dst,
        CopyOptions(connections=1, fetch_batch_count=3, **FAST),
        listener=ListenerGroup(PauseForRestart(), listener),
    )))
    copying.start()
    assert reached.wait(30)
    # Restarted from this thread: Dovecot dies with the thread that started it.
    dovecot_dst.restart()
    restarted.set()
    copying.join(60)
    (outcome,) = outcomes
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert listener.attempts  # it did have to reconnect
    assert_identical(corpus, dovecot_dst, unique_user)

