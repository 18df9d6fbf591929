"""Stopping a job at once: its connections are cut rather than waited for.

A thread blocked on a server that stopped answering would otherwise wait for the read
timeout (minutes) before noticing a stop.  The copier watches every connection it opens
and trips the :class:`Interrupter` when the job stops; each connection then shuts its
socket down (:meth:`~imapcopy_tui.engine.session.ImapSession.interrupt`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from imapcopy_tui.errors import ConnectionInterrupted

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


Made = TypeVar("Made")


class _Making(Generic[Made]):
    """Something made in a thread of its own (a connection being opened), watched like a
    connection: a stop ends the wait for it, and what is made after the stop is discarded
    unused."""

    def __init__(self, discard: Callable[[Made], None]) -> None:
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._discard = discard
        self._abandoned = False
        self._made: list[Made] = []  # empty until made; emptied by whoever discards it
        self._error: BaseException | None = None

    @property
    def closed(self) -> bool:
        return self._done.is_set()

    def interrupt(self) -> None:
        with self._lock:
            self._abandoned = True
            made, self._made = self._made, []
        self._done.set()
        for thing in made:
            self._discard(thing)

    def make(self, make: Callable[[], Made]) -> None:
        try:
            thing = make()
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits
            self._error = exc
        else:
            with self._lock:
                kept = not self._abandoned
                if kept:
                    self._made.append(thing)
            if not kept:
                self._discard(thing)
        finally:
            self._done.set()

    def result(self) -> Made:
        """What was made (the waiting thread owns it from now on), or the error."""
        self._done.wait()
        with self._lock:
            if self._abandoned:
                raise ConnectionInterrupted(STOPPED)
            made, self._made = self._made, []
        if self._error is not None:
            raise self._error
        return made[0]


def make_interruptibly(
    make: Callable[[], Made], interrupter: Interrupter, discard: Callable[[Made], None]
) -> Made:
    """``make()`` (open a connection: TCP, TLS, the server's greeting), unless the
    interrupter trips first: then ``ConnectionInterrupted`` at once.

    Nothing can cut a connection before it exists, and IMAPClient connects and reads the
    greeting in its constructor, bounded only by the connect timeout.  So it runs in a
    thread of its own, which a stop no longer waits for; a connection it makes after the
    stop is given to ``discard`` (closed, nothing sent on it).
    """
    making: _Making[Made] = _Making(discard)
    threading.Thread(target=making.make, args=(make,), name="connect", daemon=True).start()
    interrupter.watch(making)
    return making.result()
