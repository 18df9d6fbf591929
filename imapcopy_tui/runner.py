"""Runs one job of the job store to its end: the same path for the CLI, the TUI's detached
runner and tests.

It turns the engine's outcome into the job's final state: "finished", "finished with
errors", "failed" (with the reason) or "interrupted".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Connector, Copier, CopyOptions
from imapcopy_tui.engine.progress import CopyListener, CopyResult, ListenerGroup
from imapcopy_tui.engine.session import open_session
from imapcopy_tui.errors import AuthError, ConnectError, CopyCancelled, ImapCopyError
from imapcopy_tui.storage.recorder import JobRecorder
from imapcopy_tui.storage.store import JobLedger, JobState, JobStore


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended, and why when it failed."""

    job_id: int
    state: JobState
    result: CopyResult
    failure: str | None = None
    error: ImapCopyError | None = None


def run_job(
    store: JobStore,
    job_id: int,
    source: Account,
    destination: Account,
    options: CopyOptions | None = None,
    listener: CopyListener | None = None,
    cancel: threading.Event | None = None,
    connect: Connector = open_session,
) -> JobOutcome:
    """Run job ``job_id`` in this thread and record everything in ``store``."""
    recorder = JobRecorder(store, job_id)
    listeners = ListenerGroup(recorder, listener) if listener else recorder
    copier = Copier(
        source,
        destination,
        JobLedger(store, job_id),
        listeners,
        options,
        cancel=cancel,
        connect=connect,
    )
    state = JobState.FAILED
    failure: str | None = None
    error: ImapCopyError | None = None
    try:
        store.clear_issues(job_id)
        store.start(job_id)
        result = copier.run()
        state = JobState.FINISHED_WITH_ERRORS if result.errors else JobState.FINISHED
    except CopyCancelled as exc:
        state, failure, error = JobState.INTERRUPTED, str(exc), exc
    except KeyboardInterrupt:
        state, failure = JobState.INTERRUPTED, "the copy was stopped"
        _close(store, recorder, job_id, state, failure)
        raise
    except (AuthError, ConnectError, ImapCopyError) as exc:
        state, failure, error = JobState.FAILED, str(exc), exc
    except Exception as exc:  # noqa: BLE001 - the job must end in a state, whatever happens
        # Only the type: an unexpected exception's text could quote anything, a password
        # included, and this goes to disk.
        state, failure = JobState.FAILED, f"internal error ({type(exc).__name__})"
        _close(store, recorder, job_id, state, failure)
        raise
    _close(store, recorder, job_id, state, failure)
    return JobOutcome(job_id, state, copier.result, failure, error)


def _close(
    store: JobStore, recorder: JobRecorder, job_id: int, state: JobState, failure: str | None
) -> None:
    recorder.flush()
    store.end(job_id, state, failure)
