"""Stopping a copy while a server has stopped answering (sockets open, nothing coming).

A connection blocked in a read would only notice the stop at its read timeout, minutes;
the copier cuts its connections instead, so the stop takes effect at once.  Each test
then runs the copy again and reads the destination back: every message exactly once
(bytes, flags, internal dates, counts).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Security
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.progress import CopyListener
from imapcopy_tui.engine.session import Compression, Timeouts, open_session
from imapcopy_tui.errors import ConnectionInterrupted
from imapcopy_tui.launcher import launch_detached
from imapcopy_tui.runner import JobOutcome, run_job
from imapcopy_tui.storage.store import JobState, JobStore
from tests.corpus import Corpus
from tests.dovecot import CERT_HOSTNAME, DovecotServer
from tests.faultproxy import Action, Fault, FaultProxy
from tests.helpers import FAST, account, assert_identical, new_store, sync

pytestmark = pytest.mark.dovecot

ROOT = Path(__file__).parents[2]
BODY_FETCH = rb"^UID FETCH .*BODY\.PEEK\[\]"
# The normal read timeout is minutes; a stop must not wait for it.  Kept long here so
# that a stop waiting for it cannot pass.
PATIENT = Timeouts(connect=5, read=60)
PROMPT_SECONDS = 3.0


class Reconnects(CopyListener):
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        self.reasons.append(reason)


def wait_for_stall(proxy: FaultProxy, done: threading.Event | None = None) -> None:
    """Until the proxy stalled a command, and a little more: the tool is then waiting in
    a read that only the server's answer (never coming) or a stop can end."""
    deadline = time.monotonic() + 30
    while not proxy.events["STALL"]:
        assert done is None or not done.is_set(), "the copy ended before the stall"
        assert time.monotonic() < deadline, "the stall never came"
        time.sleep(0.02)
    time.sleep(0.5)


@pytest.mark.parametrize("connections", [1, 4])
@pytest.mark.parametrize(
    ("side", "command", "skip"),
    [("source", BODY_FETCH, 3), ("destination", rb"^APPEND", 3), ("source", rb"^STATUS", 0)],
    ids=["source-fetch", "destination-append", "source-planning"],
)
def test_stop_while_a_server_is_stalled_is_prompt_and_resumes_exactly_once(
    tmp_path: Path,
    side: str,
    command: bytes,
    skip: int,
    connections: int,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    destination_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """The source stops answering a body fetch (or the destination an APPEND, or the
    source its STATUS while the job is planned) mid-copy; the cancel event is set from
    another thread, as the detached runner's SIGTERM handler and the app's Stop do: the
    copy returns within a few seconds (the read timeout is a minute), the job is
    interrupted, not failed and not reconnecting, and the next run finishes with every
    message exactly once."""
    src_user, corpus = corpus_source
    proxy = source_proxy if side == "source" else destination_proxy
    proxy.add(Fault(command, Action.STALL, skip=skip))
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user, port=source_proxy.port)
    dst = account(dovecot_dst, unique_user, "destination", port=destination_proxy.port)
    job = store.create_job(src, dst)
    options = CopyOptions(**FAST, connections=connections, timeouts=PATIENT,
                          fetch_batch_count=2, send_report=False)
    cancel = threading.Event()
    listener = Reconnects()
    outcomes: list[JobOutcome] = []
    done = threading.Event()

    def copy() -> None:
        try:
            outcomes.append(run_job(store, job.id, src, dst, options, listener, cancel=cancel))
        finally:
            done.set()

    copier = threading.Thread(target=copy)
    copier.start()
    try:
        wait_for_stall(proxy, done)
        stopped_at = time.monotonic()
        cancel.set()
        assert done.wait(PROMPT_SECONDS + 30), "the copy did not stop"
        took = time.monotonic() - stopped_at
    finally:
        cancel.set()
        copier.join()
    (outcome,) = outcomes
    assert took < PROMPT_SECONDS, f"the stop took {took:.1f} s"
    assert outcome.state is JobState.INTERRUPTED, outcome.failure
    assert outcome.failure == "the copy was stopped"
    assert listener.reasons == []  # a cut of our own is no lost connection
    assert store.get(job.id).state is JobState.INTERRUPTED
    copied = outcome.result.total("copied")
    assert copied < corpus.message_count

    proxy.clear()
    again = sync(store, src, dst, send_report=False, connections=connections)
    assert again.state is JobState.FINISHED, again.failure
    assert again.job_id == job.id  # the interrupted job resumed
    # The first run's copies are known (ledger, or found on the destination): not again.
    assert again.result.total("copied") <= corpus.message_count
    assert_identical(corpus, dovecot_dst, unique_user)


def test_a_pair_failing_the_job_stops_a_pair_waiting_for_a_stalled_server(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """One pair waits for a body fetch the source never answers; another pair's connection
    is cut and, with no reconnect allowed, fails the job: the job ends at once with that
    error (not after the stalled read's timeout, and not as a stop), and the next run
    finishes with every message exactly once."""
    src_user, corpus = corpus_source
    # Each body fetch counts down both skips: the 3rd stalls, the 5th (another
    # connection's: the stalled one sends nothing more) is cut.
    source_proxy.add(Fault(BODY_FETCH, Action.STALL, skip=2))
    source_proxy.add(Fault(BODY_FETCH, Action.CUT_RESPONSE, after_bytes=100, skip=3))
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user, port=source_proxy.port)
    dst = account(dovecot_dst, unique_user, "destination")
    started = time.monotonic()
    first = sync(store, src, dst, send_report=False, connections=2, fetch_batch_count=1,
                 max_reconnects=0, timeouts=PATIENT)
    took = time.monotonic() - started
    assert source_proxy.events["STALL"] == 1 and source_proxy.events["cut response"] == 1
    assert took < 20, f"the job took {took:.1f} s"
    assert first.state is JobState.FAILED
    assert first.failure is not None and "the connection was lost" in first.failure

    source_proxy.clear()
    again = sync(store, src, dst, send_report=False, connections=2)
    assert again.state is JobState.FINISHED, again.failure
    assert_identical(corpus, dovecot_dst, unique_user)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_sync_with_a_stalled_source_stops_at_once(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
    stop: signal.Signals,
) -> None:
    """``imapcopy sync`` as an admin runs it, with its default read timeout (minutes):
    Ctrl+C (SIGINT), or SIGTERM (the app's Stop, a service manager), while the source has
    stopped answering a body fetch ends the process
    within a few seconds, exit 130, the job interrupted; the same command run again
    finishes it, every message exactly once."""
    src_user, corpus = corpus_source
    source_proxy.add(Fault(BODY_FETCH, Action.STALL, skip=3))
    passfile = tmp_path / "source.pass"
    passfile.write_text(dovecot_src.password + "\n")
    passfile.chmod(0o600)
    args = [
        sys.executable, "-m", "imapcopy_tui", "sync",
        "--host1", dovecot_src.host, "--port1", str(source_proxy.port), "--user1", src_user,
        "--plain1", "--passfile1", str(passfile),
        "--host2", dovecot_dst.host, "--port2", str(dovecot_dst.plain_port),
        "--user2", unique_user, "--plain2", "--no-report",
    ]
    env = {**os.environ, "IMAPCOPY_PASSWORD2": dovecot_dst.password}
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_stall(source_proxy)
        assert process.poll() is None, process.communicate()
        stopped_at = time.monotonic()
        process.send_signal(stop)
        _stdout, stderr = process.communicate(timeout=PROMPT_SECONDS + 30)
        took = time.monotonic() - stopped_at
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert took < PROMPT_SECONDS, f"the stop took {took:.1f} s"
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    store = JobStore(Path(os.environ["IMAPCOPY_DB"]))
    (job,) = store.jobs(src_user)
    assert job.state is JobState.INTERRUPTED
    assert (
        f"imapcopy: interrupted; job {job.id} stopped, run the same command again to resume it"
        in stderr
    )

    source_proxy.clear()
    again = subprocess.run(
        args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "finished:" in again.stdout
    assert_identical(corpus, dovecot_dst, unique_user)


def test_sigterm_to_the_detached_runner_with_a_stalled_source_stops_at_once(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    source_proxy: FaultProxy,
    unique_user: str,
) -> None:
    """The app's Stop: SIGTERM to the detached runner (default read timeout, minutes)
    while the source has stopped answering a body fetch; the runner exits within a few
    seconds, the job interrupted, and the next run finishes it exactly once."""
    src_user, corpus = corpus_source
    source_proxy.add(Fault(BODY_FETCH, Action.STALL, skip=3))
    store = new_store(tmp_path)
    src = account(dovecot_src, src_user, port=source_proxy.port)
    dst = account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    runner = launch_detached(store, job.id, src, dst, CopyOptions(send_report=False))
    try:
        wait_for_stall(source_proxy)
        assert runner.poll() is None
        stopped_at = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        runner.wait(PROMPT_SECONDS + 30)
        took = time.monotonic() - stopped_at
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert took < PROMPT_SECONDS, f"the stop took {took:.1f} s"
    assert store.get(job.id).state is JobState.INTERRUPTED

    source_proxy.clear()
    again = sync(store, src, dst, send_report=False)
    assert again.state is JobState.FINISHED, again.failure
    assert_identical(corpus, dovecot_dst, unique_user)


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_interrupt_ends_a_read_under_tls_and_compression(
    security: Security, dovecot_zlib: DovecotServer, unique_user: str
) -> None:
    """A connection over TLS and COMPRESS=DEFLATE waiting for a line that never comes
    (nothing was asked: the read is the gateway's own, as inside any command) is woken by
    interrupt() at once, as a stop; the session then closes without an error."""
    port = dovecot_zlib.tls_port if security is Security.TLS else dovecot_zlib.plain_port
    acct = account(dovecot_zlib, unique_user, port=port, security=security,
                   host=CERT_HOSTNAME, ca_file=str(dovecot_zlib.ca_file))
    session = open_session(acct, timeouts=PATIENT, compression=Compression.ON)
    assert session.compressed
    errors: list[BaseException] = []

    def wait_for_a_line() -> None:
        try:
            with session._guard():
                session._client._imap._get_line()  # as every command reads its answer
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            errors.append(exc)

    reader = threading.Thread(target=wait_for_a_line)
    reader.start()
    time.sleep(0.5)
    assert reader.is_alive()
    started = time.monotonic()
    session.interrupt()
    reader.join(PROMPT_SECONDS + 30)
    took = time.monotonic() - started
    assert not reader.is_alive() and took < PROMPT_SECONDS, took
    assert len(errors) == 1 and isinstance(errors[0], ConnectionInterrupted), errors
    session.close()
