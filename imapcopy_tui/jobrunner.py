"""The detached job runner: ``python -m imapcopy_tui.jobrunner`` with the job on stdin.

Reads one JSON object (database, job id, both accounts with their passwords or token
sources, options) from standard input, runs the job to its end, and exits.  SIGTERM and
SIGINT stop it cleanly (the job becomes "interrupted" and resumes on the next sync).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

from imapcopy_tui.engine.account import Account, AuthMethod, Security
from imapcopy_tui.engine.budget import quiet_garbage_collector
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.runner import run_job
from imapcopy_tui.storage.store import JobStore


def _account(data: dict[str, Any]) -> Account:
    return Account(
        **{**data, "security": Security(data["security"]), "auth": AuthMethod(data["auth"])}
    )


def main() -> int:
    quiet_garbage_collector()
    spec = json.loads(sys.stdin.read())
    sys.stdin.close()
    cancel = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        cancel.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # belt and braces: we have our own session
    outcome = run_job(
        JobStore(spec["db"]),
        int(spec["job_id"]),
        _account(spec["source"]),
        _account(spec["destination"]),
        CopyOptions.from_dict(spec["options"]),
        cancel=cancel,
    )
    print(f"job {outcome.job_id}: {outcome.state.value}"
          + (f": {outcome.failure}" if outcome.failure else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
