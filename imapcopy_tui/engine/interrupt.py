"""Stopping a job at once: its connections are cut rather than waited for.

A thread blocked on a server that stopped answering would otherwise wait for the read
timeout (minutes) before noticing a stop.  The copier watches every connection it opens
and trips the :class:`Interrupter` when the job stops; each connection then shuts its
socket down (:meth:`~imapcopy_tui.engine.session.ImapSession.interrupt`).
"""

from __future__ import annotations

import threading
from typing import Protocol

STOPPED = "the copy was stopped"  # what a stop says, whichever connection noticed it


class Interruptible(Protocol):
    """A connection the interrupter can cut (an ``ImapSession``)."""

    @property
    def closed(self) -> bool: ...

    def interrupt(self) -> None: ...


class Interrupter:
    """The connections of one job, cut at once (:meth:`ImapSession.interrupt`) when the
    job stops.

    Connections watched after :meth:`trip` are cut as they are watched: a login that
    finishes after the stop sends nothing more.  Any thread may watch or trip.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: list[Interruptible] = []
        self._tripped = False

    @property
    def tripped(self) -> bool:
        return self._tripped

    def watch(self, session: Interruptible) -> None:
        with self._lock:
            if not self._tripped:
                # Closed ones are forgotten here: a long job reconnects now and then.
                self._sessions = [s for s in self._sessions if not s.closed and s is not session]
                self._sessions.append(session)
                return
        session.interrupt()

    def trip(self) -> None:
        """Cut every connection watched, and those watched from now on."""
        with self._lock:
            self._tripped = True
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.interrupt()
