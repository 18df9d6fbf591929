"""Start a job in a process of its own, detached from the terminal.

The copy must go on when the user closes the app or the SSH session drops: the runner gets
its own session (no SIGHUP from the terminal), and the credentials through a pipe on its
standard input, never through argv, the environment or a file.  An OAuth2 account's access
token is not among them: the runner gets the token file or command and fetches tokens
itself, at each connection, as long as the copy lasts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.tokens import child_environment
from imapcopy_tui.locations import ensure_private_dir
from imapcopy_tui.storage.liveness import ProcessIdentity, process_start_ticks
from imapcopy_tui.storage.store import Job, JobState, JobStore

RUNNER_MODULE = "imapcopy_tui.jobrunner"


def runner_log_path(store: JobStore, job_id: int) -> Path:
    """Where a detached runner writes its diagnostics (never a secret)."""
    return store.path.parent / "logs" / f"job-{job_id}.log"


def launch_detached(
    store: JobStore,
    job_id: int,
    source: Account,
    destination: Account,
    options: CopyOptions | None = None,
) -> subprocess.Popen[bytes]:
    """Start the runner of ``job_id``; return at once (the caller may poll() to reap it)."""
    options = options or CopyOptions()
    payload = {
        "db": str(store.path),
        "job_id": job_id,
        "source": _account_dict(source),
        "destination": _account_dict(destination),
        "options": options.to_dict(),
    }
    log_path = runner_log_path(store, job_id)
    ensure_private_dir(log_path.parent)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(log_fd, 0o600)  # a resumed job appends to its log: keep it private too
    env = child_environment()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", RUNNER_MODULE],
            stdin=subprocess.PIPE,
            stdout=log_fd,
            stderr=log_fd,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(log_fd)
    store.assign_runner(job_id, ProcessIdentity(process.pid, process_start_ticks(process.pid)))
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(payload).encode("utf-8"))
        process.stdin.close()
    except BrokenPipeError:
        pass  # the runner died at once; the job store will show it interrupted
    return process


def _account_dict(account: Account) -> dict[str, object]:
    data = asdict(account)
    data["security"] = account.security.value
    data["auth"] = account.auth.value
    return data


def stop_runner(job: Job) -> bool:
    """Ask the process running ``job`` on this machine to stop: SIGTERM, on which a runner
    (detached, or ``imapcopy sync`` in a terminal) cuts its connections and records the
    job interrupted, resumed by the same sync.

    False when no such process runs here (the job is over, or another machine runs it);
    the pid is signalled only while it is still the process that claimed the job.
    """
    # Only a copy under way, run by another process that can be told apart from a later
    # one with the same pid: a queued job's pid is its creator's (this app, say).
    if job.state is not JobState.RUNNING or job.runner_pid is None:
        return False
    if job.runner_pid == os.getpid() or job.runner_start_ticks is None:
        return False
    if job.runner_host and job.runner_host != socket.gethostname():
        return False
    runner = ProcessIdentity(job.runner_pid, job.runner_start_ticks)
    if not runner.is_alive():
        return False
    try:
        os.kill(runner.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True
