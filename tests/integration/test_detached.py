"""The detached runner: credentials through a pipe only, the job runs to its end alone."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from imapcopy_tui.launcher import launch_detached, runner_log_path
from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus
from tests.dovecot import DovecotServer
from tests.helpers import account, assert_identical, new_store

pytestmark = pytest.mark.dovecot


def test_detached_runner_copies_without_exposing_passwords(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The runner has its own session; its argv and environment hold no password (even if
    ours does); it finishes the job and the destination is identical; its log is 0600."""
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", dovecot_src.password)  # must not be inherited
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, src_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    process = launch_detached(store, job.id, src, dst)
    cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    environ = Path(f"/proc/{process.pid}/environ").read_bytes()
    assert os.getsid(process.pid) == process.pid != os.getsid(0)
    for secret in (dovecot_src.password, dovecot_dst.password):
        assert secret.encode() not in cmdline
        assert secret.encode() not in environ
    assert store.get(job.id).runner_pid == process.pid

    assert process.wait(timeout=60) == 0
    finished = store.get(job.id)
    assert finished.state is JobState.FINISHED, finished.failure
    assert finished.messages_copied == corpus.message_count
    assert_identical(corpus, dovecot_dst, unique_user)
    log = runner_log_path(store, job.id)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert dovecot_dst.password not in log.read_text()


def test_runner_that_dies_at_once_reads_as_interrupted(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, unique_user: str
) -> None:
    """A runner killed before it starts copying leaves the job interrupted, not queued."""
    store = new_store(tmp_path)
    src, dst = account(dovecot_src, unique_user), account(dovecot_dst, unique_user, "destination")
    job = store.create_job(src, dst)
    process = launch_detached(store, job.id, src, dst)
    process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while store.get(job.id).state is not JobState.INTERRUPTED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.get(job.id).state is JobState.INTERRUPTED
