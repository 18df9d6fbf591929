"""Is the process that runs a job still there?

A job row records the pid and the process's start time (from ``/proc``), so a pid reused by
another program after a reboot or a crash is not mistaken for the runner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces or ")".
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[19])  # field 22 of the whole line: starttime


@dataclass(frozen=True)
class ProcessIdentity:
    """A running process, told apart from a later one that reuses its pid."""

    pid: int
    start_ticks: int | None

    @classmethod
    def current(cls) -> ProcessIdentity:
        pid = os.getpid()
        return cls(pid, process_start_ticks(pid))

    def is_alive(self) -> bool:
        if self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # exists, owned by someone else
        ticks = process_start_ticks(self.pid)
        if ticks is None:
            # No /proc (not Linux): the signal test is all we have.
            return not os.path.isdir("/proc/self")
        if self.start_ticks is not None and ticks != self.start_ticks:
            return False
        # A zombie has finished its work even if nobody reaped it yet.
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                data = stat.read()
            return data[data.rindex(b")") + 2 : data.rindex(b")") + 3] != b"Z"
        except OSError:
            return False
