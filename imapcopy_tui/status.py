"""The status lookup in the guide's words, shared by the command line and the app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from imapcopy_tui.engine.progress import human_size
from imapcopy_tui.storage.store import Job, JobState

__all__ = [
    "StatusText",
    "counters_line",
    "describe",
    "human_size",
    "state_words",
    "takeover_words",
    "waiting_line",
]

_STATE_WORDS = {
    JobState.QUEUED: "not started yet",
    JobState.RUNNING: "in progress",
    JobState.FINISHED: "finished",
    JobState.FINISHED_WITH_ERRORS: "finished with errors",
    JobState.FAILED: "failed",
    JobState.INTERRUPTED: "interrupted",
}


@dataclass(frozen=True)
class StatusText:
    """A headline in the guide's words, then details, one per line."""

    headline: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "\n".join((self.headline, *self.details))


def counters_line(job: Job) -> str:
    return (
        f"{job.messages_copied} copied, {job.messages_present} already present, "
        f"{job.messages_failed} failed, of {job.messages_total} messages; "
        f"{job.folders_done}/{job.folders_total} folders; {human_size(job.bytes_copied)}"
    )


def waiting_line(job: Job, now: datetime | None = None) -> str | None:
    """"Waiting until 14:03:22: <why>" while a running job pauses, else None."""
    if job.state is not JobState.RUNNING or not job.waiting_until:
        return None
    until = datetime.fromisoformat(job.waiting_until)
    if until <= (now or datetime.now(UTC)):
        return None
    return f"Waiting until {until.astimezone():%H:%M:%S}: {job.waiting_reason}"


def state_words(state: JobState) -> str:
    """A job's state in plain words: "in progress", not "running"."""
    return _STATE_WORDS[state]


def takeover_words(job: Job) -> str | None:
    """"job 12 took it over (finished)" when a later job carried on ``job``, else None."""
    later = job.taken_over_by
    if later is None:
        return None
    return f"job {later.id} took it over ({state_words(later.state)})"


def describe(job: Job) -> StatusText:
    """What the status lookup answers for ``job``."""
    route = (
        f"{job.source_login} ({job.source_host}) -> "
        f"{job.destination_login} ({job.destination_host})"
    )
    state = job.state
    if state is JobState.QUEUED:
        return StatusText("The sync has not started yet, please wait.", (route,))
    if state is JobState.RUNNING:
        waiting = waiting_line(job)
        return StatusText(
            "The sync of your accounts is in progress.",
            (route, counters_line(job)) + ((waiting,) if waiting else ()),
        )
    if state is JobState.FINISHED:
        return StatusText("The sync of your accounts is finished.", (route, counters_line(job)))
    if state is JobState.FINISHED_WITH_ERRORS:
        errors = job.errors
        count = len(errors) or job.messages_failed
        lines = [route, counters_line(job)] + [f"- {e}" for e in errors]
        return StatusText(
            f"The sync of your accounts is finished with {count} error{'s' * (count != 1)}.",
            tuple(lines),
        )
    # Once a later job took over, the advice to start again is stale: say who carried on.
    takeover = takeover_words(job)
    if state is JobState.FAILED:
        failed = f"The sync failed: {job.failure or 'unknown reason'}"
        return StatusText(
            f"{failed.rstrip('.')}; {takeover}." if takeover
            else f"{failed}.".replace("..", "."),
            (route, counters_line(job)),
        )
    return StatusText(
        f"The sync was interrupted before the end; {takeover}." if takeover
        else "The sync was interrupted before the end: start the same sync again (with the "
        "passwords) to resume it; nothing will be copied twice.",
        (route, counters_line(job)) + ((f"Reason: {job.failure}",) if job.failure else ()),
    )
