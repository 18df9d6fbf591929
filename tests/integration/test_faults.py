"""Faults injected by a TCP proxy between the tool and Dovecot (see tests/faultproxy.py).

Every test ends by reading the destination back: the copy is identical to the source,
nothing lost and nothing doubled, whatever the proxy did on the way.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.progress import CopyListener
from imapcopy_tui.engine.session import Timeouts
from imapcopy_tui.runner import run_job
from imapcopy_tui.status import describe, waiting_line
from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus
from tests.dovecot import DovecotServer
from tests.faultproxy import Action, Fault, FaultProxy
from tests.helpers import FAST, account, assert_identical, new_store, sync

pytestmark = pytest.mark.dovecot

BODY_FETCH = rb"^UID FETCH .*BODY\.PEEK\[\]"
THROTTLED = b"NO [THROTTLED] Request is throttled. Suggested Backoff Time: 300 milliseconds"


class Waits(CopyListener):
    def __init__(self) -> None:
        self.waits: list[tuple[float, str]] = []
        self.reconnects: list[str] = []

    def waiting(self, delay: float, reason: str) -> None:
        self.waits.append((delay, reason))

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        self.reconnects.append(reason)


def copy_through(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    src_user: str,
    dovecot_dst: DovecotServer,
    dst_user: str,
    *,
    source_port: int | None = None,
    destination_port: int | None = None,
    listener: CopyListener | None = None,
    expect_finished: bool = True,
    **options: object,
) -> JobState:
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user, port=source_port or dovecot_src.plain_port)
    dst = account(
        dovecot_dst, dst_user, "destination", port=destination_port or dovecot_dst.plain_port
    )
    outcome = sync(store, src, dst, listener=listener, send_report=False, **options)
    assert outcome.failure is None, outcome.failure
    # Whatever the caller expects, say what went wrong when it was not a clean finish.
    assert outcome.state is JobState.FINISHED or not expect_finished, outcome.result.errors
    return outcome.state


@pytest.mark.parametrize("connections", [1, 4])
def test_cut_in_the_middle_of_a_fetch(
    tmp_path: Path,
    connections: int,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """The source connection dies part-way into two body fetches: reconnect, resume.

    500 bytes in: every folder's body fetch is longer than that (the smallest message is
    481 bytes, plus the FETCH line), so both cuts happen whichever pairs meet them."""
    src_user, corpus = corpus_source
    source_proxy.add(Fault(BODY_FETCH, Action.CUT_RESPONSE, after_bytes=500, times=2))
    state = copy_through(
        tmp_path, dovecot_src, src_user, dovecot_dst, unique_user,
        source_port=source_proxy.port, connections=connections,
    )
    assert state is JobState.FINISHED
    assert source_proxy.events["cut response"] == 2
    assert_identical(corpus, dovecot_dst, unique_user)


@pytest.mark.parametrize(
    ("action", "skip"),
    [(Action.CUT_REQUEST, 1), (Action.CUT_BEFORE_REPLY, 1), (Action.CUT_BEFORE_REPLY, 6)],
    ids=["mid-append", "answer-lost-first-batch", "answer-lost-later"],
)
def test_cut_during_an_append(
    tmp_path: Path,
    action: Action,
    skip: int,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    destination_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """Cut while a MULTIAPPEND is being sent (nothing stored), or after the server stored
    it and before its OK reached us (outcome unknown): after reconnecting, what landed is
    found on the destination and not sent again; what did not land is sent."""
    src_user, corpus = corpus_source
    destination_proxy.add(
        Fault(rb"^APPEND", action, after_bytes=20_000, skip=skip, times=2)
    )
    state = copy_through(
        tmp_path, dovecot_src, src_user, dovecot_dst, unique_user,
        destination_port=destination_proxy.port, connections=2,
    )
    assert state is JobState.FINISHED
    assert destination_proxy.events[action.name] == 2
    assert_identical(corpus, dovecot_dst, unique_user)


def test_stalled_server_times_out_and_the_copy_reconnects(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """The source stops answering mid-copy (sockets open, nothing forwarded): the read
    timeout fires, the pair reconnects and finishes."""
    src_user, corpus = corpus_source
    source_proxy.add(Fault(BODY_FETCH, Action.STALL, skip=2))
    waits = Waits()
    started = time.monotonic()
    state = copy_through(
        tmp_path, dovecot_src, src_user, dovecot_dst, unique_user,
        source_port=source_proxy.port, listener=waits, connections=1,
        timeouts=Timeouts(connect=5, read=3),
    )
    assert state is JobState.FINISHED
    assert source_proxy.events["STALL"] == 1
    assert len(waits.reconnects) == 1 and "stopped answering" in waits.reconnects[0]
    assert time.monotonic() - started < 30
    assert_identical(corpus, dovecot_dst, unique_user)


def test_bye_mid_copy_is_a_reconnect(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    destination_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """The destination says ``* BYE [UNAVAILABLE]`` instead of taking an APPEND, four times
    running: each time the pair reconnects; the message is not blamed (no "broke the
    connection 3 times" skip) and the job finishes with everything."""
    src_user, corpus = corpus_source
    destination_proxy.add(
        Fault(rb"^APPEND", Action.BYE, reply=b"[UNAVAILABLE] Shutting down, try again later",
              skip=2, times=4)
    )
    waits = Waits()
    state = copy_through(
        tmp_path, dovecot_src, src_user, dovecot_dst, unique_user,
        destination_port=destination_proxy.port, listener=waits, connections=1,
    )
    assert state is JobState.FINISHED
    assert destination_proxy.events["BYE"] == 4
    assert len(waits.reconnects) == 4
    assert all("Shutting down" in reason for reason in waits.reconnects), waits.reconnects
    assert_identical(corpus, dovecot_dst, unique_user)


def test_throttled_appends_wait_as_suggested_then_go_on(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    destination_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """Three APPENDs answered "Request is throttled. Suggested Backoff Time: 300
    milliseconds": each is sent again after 0.3 s on the same connection; no message
    fails, no reconnect, and the job keeps a warning saying it was slowed down."""
    src_user, corpus = corpus_source
    destination_proxy.add(Fault(rb"^APPEND", Action.REPLY, reply=THROTTLED, skip=1, times=3))
    waits = Waits()
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user)
    dst = account(dovecot_dst, unique_user, "destination", port=destination_proxy.port)
    outcome = sync(store, src, dst, listener=waits, send_report=False, connections=1)
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert [delay for delay, _ in waits.waits] == [0.3, 0.3, 0.3]
    assert "Suggested Backoff Time" in waits.waits[0][1]
    assert waits.reconnects == []
    assert destination_proxy.connections == 1
    (warning,) = outcome.result.warnings
    assert warning.message.startswith("the destination server asked to wait 3 times")
    assert_identical(corpus, dovecot_dst, unique_user)


def test_unavailable_source_is_retried_with_back_off(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """``NO [UNAVAILABLE]`` without a suggested delay: doubling waits from the back-off."""
    src_user, corpus = corpus_source
    source_proxy.add(Fault(BODY_FETCH, Action.REPLY, skip=1, times=3))
    waits = Waits()
    state = copy_through(
        tmp_path, dovecot_src, src_user, dovecot_dst, unique_user,
        source_port=source_proxy.port, listener=waits, connections=1,
        backoff_seconds=0.05, max_backoff_seconds=1.0,
    )
    assert state is JobState.FINISHED
    assert [delay for delay, _ in waits.waits] == [0.05, 0.1, 0.2]
    assert_identical(corpus, dovecot_dst, unique_user)


def test_endless_limit_answer_fails_that_message_only(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    destination_proxy: FaultProxy,
    make_user: object,
) -> None:
    """A server that keeps answering ``[LIMIT]`` to one message: it is recorded as failed
    after a few tries, and the others are copied."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    client = dovecot_src.client(src_user)
    bodies = [f"Subject: m{i}\r\n\r\n{'x' * (100 + i)}\r\n".encode() for i in range(5)]
    for body in bodies:
        client.append("INBOX", body)
    client.logout()
    destination_proxy.add(
        Fault(rb"\{%d\+?\}" % len(bodies[2]), Action.REPLY,
              reply=b"NO [LIMIT] Too many flags", times=100)
    )
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user)
    dst = account(dovecot_dst, dst_user, "destination", port=destination_proxy.port)
    outcome = sync(store, src, dst, send_report=False, connections=1, fetch_batch_count=1)
    assert outcome.state is JobState.FINISHED_WITH_ERRORS
    (error,) = outcome.result.errors
    assert error.message.endswith("the server answered: [LIMIT] Too many flags")
    assert destination_proxy.events["REPLY"] == 3  # sent, then again twice: not forever
    checker = dovecot_dst.client(dst_user)
    checker.select_folder("INBOX", readonly=True)
    got = checker.fetch(checker.search("ALL"), ["BODY.PEEK[]"])
    checker.logout()
    assert sorted(v[b"BODY[]"] for v in got.values()) == sorted(bodies[:2] + bodies[3:])


def test_status_says_the_job_is_waiting_and_why(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    destination_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """While the copy waits out a throttling answer, the status lookup (the CLI's and the
    app's) shows until when and the server's words; once it goes on, the line is gone."""
    src_user, corpus = corpus_source
    destination_proxy.add(
        Fault(rb"^APPEND", Action.REPLY, skip=1,
              reply=b"NO [THROTTLED] Request is throttled. Suggested Backoff Time: 2500 ms")
    )
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user)
    dst = account(dovecot_dst, unique_user, "destination", port=destination_proxy.port)
    job = store.create_job(src, dst)
    seen: list[str] = []

    def watch() -> None:
        while not seen and store.get(job.id).state in (JobState.QUEUED, JobState.RUNNING):
            seen.extend(line for line in describe(store.get(job.id)).details if "Waiting" in line)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    outcome = run_job(store, job.id, src, dst, CopyOptions(**FAST, connections=1))
    watcher.join()
    assert outcome.state is JobState.FINISHED, outcome.failure
    (line,) = seen
    assert line.startswith("Waiting until ")
    assert line.endswith(
        f"destination account {unique_user} on 127.0.0.1:{destination_proxy.port}: the server "
        "asks to wait ([THROTTLED] Request is throttled. Suggested Backoff Time: 2500 ms)"
    )
    assert waiting_line(store.get(job.id)) is None  # finished: no longer waiting
    assert_identical(corpus, dovecot_dst, unique_user)


def test_the_source_is_only_read_and_the_destination_only_added_to(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    destination_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """Every command either side received, counted at the proxies during a copy and its
    re-run: the source only reads (EXAMINE, never SELECT), the destination only gets
    folders and messages added; no STORE, EXPUNGE, DELETE, RENAME, MOVE or COPY anywhere."""
    src_user, corpus = corpus_source
    for _ in range(2):
        state = copy_through(
            tmp_path, dovecot_src, src_user, dovecot_dst, unique_user,
            source_port=source_proxy.port, destination_port=destination_proxy.port,
        )
        assert state is JobState.FINISHED
    reading = {"CAPABILITY", "LOGIN", "AUTHENTICATE", "ID", "NAMESPACE", "LIST", "STATUS",
               "EXAMINE", "FETCH", "SEARCH", "NOOP", "LOGOUT"}
    assert set(source_proxy.commands) <= reading, source_proxy.commands
    assert source_proxy.commands["EXAMINE"] > 0 and source_proxy.commands["FETCH"] > 0
    adding = reading | {"SELECT", "CREATE", "SUBSCRIBE", "APPEND"}
    assert set(destination_proxy.commands) <= adding, destination_proxy.commands
    assert destination_proxy.commands["APPEND"] > 0
    assert_identical(corpus, dovecot_dst, unique_user)


def test_bandwidth_cap_paces_the_copy(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    make_user: object,
) -> None:
    """--maxbytespersecond: 1.2 MB at 400 kB/s cannot take less than about 2 s (the first
    second's worth goes at once), and the copy is still exact."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    client = dovecot_src.client(src_user)
    bodies = [f"Subject: big {i}\r\n\r\n".encode() + bytes([65 + i]) * 100_000 + b"\r\n"
              for i in range(12)]
    for body in bodies:
        client.append("INBOX", body)
    client.logout()
    store = new_store(tmp_path)
    started = time.monotonic()
    outcome = sync(store, account(dovecot_src, src_user),
                   account(dovecot_dst, dst_user, "destination"), send_report=False,
                   max_bytes_per_second=400_000, fetch_batch_count=2)
    elapsed = time.monotonic() - started
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert elapsed >= 1.9, elapsed
    checker = dovecot_dst.client(dst_user)
    checker.select_folder("INBOX", readonly=True)
    got = checker.fetch(checker.search("ALL"), ["BODY.PEEK[]"])
    checker.logout()
    assert [got[uid][b"BODY[]"] for uid in sorted(got)] == bodies


def test_throttled_create_is_sent_again(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    destination_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """Two CREATEs of the pipelined burst answered ``NO [THROTTLED]``: created after a
    wait, and every folder copied."""
    src_user, corpus = corpus_source
    destination_proxy.add(Fault(rb"^CREATE", Action.REPLY, skip=1, times=2,
                                reply=b"NO [THROTTLED] Too many folder operations"))
    waits = Waits()
    state = copy_through(
        tmp_path, dovecot_src, src_user, dovecot_dst, unique_user,
        destination_port=destination_proxy.port, listener=waits,
    )
    assert state is JobState.FINISHED
    assert destination_proxy.events["REPLY"] == 2 and len(waits.waits) == 1
    assert_identical(corpus, dovecot_dst, unique_user)
