"""``ImapSession.interrupt`` and the ``Interrupter``, against a loopback server that stops
answering (and reading) when told: a blocked write or login ends at once, as a stop, and
nothing more is sent on the connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.bulk import OutgoingMessage
from imapcopy_tui.engine.copier import Copier
from imapcopy_tui.engine.interrupt import Interrupter, make_interruptibly
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.session import (
    ImapSession,
    Timeouts,
    open_session,
)
from imapcopy_tui.errors import AuthError, ConnectionInterrupted, CopyCancelled

CAPABILITIES = b"IMAP4rev1 LITERAL+ MULTIAPPEND"
PATIENT = Timeouts(connect=5, read=60)  # a stop must not wait for this
PROMPT_SECONDS = 2.0


class StallingServer:
    """Greets and answers CAPABILITY and LOGIN (unless ``stall_login``); at any other
    command it stops reading and answering, the socket left open.  It records every line
    it read, so a test can say what was sent."""

    def __init__(self, *, stall_login: bool = False, stall_greeting: bool = False) -> None:
        self.stall_login = stall_login
        self.greet = threading.Event()  # with stall_greeting, the greeting waits for this
        if not stall_greeting:
            self.greet.set()
        self.ended = threading.Event()  # set when a client closed its connection
        self.lines: list[bytes] = []
        self.connections = 0
        self.stalled = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._done = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            if not self.greet.is_set():
                self.stalled.set()
                self.greet.wait()
            client.sendall(b"* OK [CAPABILITY " + CAPABILITIES + b"] ready\r\n")
            while line := reader.readline():
                self.lines.append(line)
                tag, _, rest = line.partition(b" ")
                command = rest.split(b" ", 1)[0].strip().upper()
                if command == b"CAPABILITY":
                    answer = b"* CAPABILITY " + CAPABILITIES + b"\r\n" + tag + b" OK done\r\n"
                    client.sendall(answer)
                elif command == b"LOGIN" and not self.stall_login:
                    client.sendall(tag + b" OK [CAPABILITY " + CAPABILITIES + b"] in\r\n")
                else:
                    self.stalled.set()
                    self._done.wait()  # nothing read, nothing answered: a stalled server
                    return
            self.ended.set()
        except OSError:
            return

    def close(self) -> None:
        self._done.set()
        self._listener.close()
        for sock in self._open:
            sock.close()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., StallingServer]]:
    servers: list[StallingServer] = []

    def make(**kwargs: bool) -> StallingServer:
        servers.append(StallingServer(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _account(server: StallingServer) -> Account:
    return Account(host="127.0.0.1", port=server.port, login="user", password="secret",
                   security=Security.PLAIN)


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_interrupt_ends_a_write_blocked_on_a_server_that_stopped_reading(
    server_factory: Callable[..., StallingServer],
) -> None:
    """An APPEND of 32 MB to a server that reads nothing fills the socket buffers and
    blocks in the write: interrupt() ends it at once with ConnectionInterrupted (a stop,
    not a lost connection); the next command fails before sending, and close() sends no
    LOGOUT into the middle of the literal."""
    server = server_factory()
    session = open_session(_account(server), timeouts=PATIENT)
    message = OutgoingMessage(b"x" * (32 * 1024 * 1024), (), None)
    thread, errors = _in_thread(lambda: session.append_many("INBOX", [message]))
    assert server.stalled.wait(5)
    time.sleep(0.5)
    assert thread.is_alive()  # blocked in the write
    started = time.monotonic()
    session.interrupt()
    thread.join(PROMPT_SECONDS + 10)
    took = time.monotonic() - started
    assert not thread.is_alive() and took < PROMPT_SECONDS, took
    (error,) = errors
    assert isinstance(error, ConnectionInterrupted) and isinstance(error, CopyCancelled)
    assert str(error) == "the copy was stopped"
    with pytest.raises(ConnectionInterrupted):
        session.fetch([1], ["FLAGS"])
    session.close()
    session.interrupt()  # after close: nothing left to cut, and no error
    assert not any(b"LOGOUT" in line or b"FETCH" in line for line in server.lines)


def test_tripped_interrupter_cuts_a_stalled_login_and_refuses_new_ones(
    server_factory: Callable[..., StallingServer],
) -> None:
    """A login the server never answers ends when the interrupter trips; a connection
    asked for after the trip is not even opened."""
    server = server_factory(stall_login=True)
    interrupter = Interrupter()
    sessions: list[ImapSession] = []
    thread, errors = _in_thread(
        lambda: sessions.append(
            open_session(_account(server), timeouts=PATIENT, interrupter=interrupter)
        )
    )
    assert server.stalled.wait(5)
    time.sleep(0.3)
    started = time.monotonic()
    interrupter.trip()
    thread.join(PROMPT_SECONDS + 10)
    assert not thread.is_alive() and time.monotonic() - started < PROMPT_SECONDS
    assert sessions == [] and len(errors) == 1
    assert isinstance(errors[0], ConnectionInterrupted), errors
    assert server.connections == 1
    with pytest.raises(ConnectionInterrupted):
        open_session(_account(server), timeouts=PATIENT, interrupter=interrupter)
    assert server.connections == 1


def test_tripped_interrupter_ends_the_wait_for_a_greeting_and_the_late_connection_is_unused(
    server_factory: Callable[..., StallingServer],
) -> None:
    """A server that accepts the connection but does not greet (IMAPClient connects and
    waits for the greeting in its constructor, up to the connect timeout): a stop is not
    held by it, and when the greeting comes after all, the connection is closed unused."""
    server = server_factory(stall_greeting=True)
    interrupter = Interrupter()
    thread, errors = _in_thread(
        lambda: open_session(_account(server), timeouts=PATIENT, interrupter=interrupter)
    )
    assert server.stalled.wait(5)
    started = time.monotonic()
    interrupter.trip()
    thread.join(PROMPT_SECONDS + 10)
    assert not thread.is_alive() and time.monotonic() - started < PROMPT_SECONDS
    assert len(errors) == 1 and isinstance(errors[0], ConnectionInterrupted), errors
    server.greet.set()
    assert server.ended.wait(5), "the connection made after the stop was left open"
    # imaplib's own CAPABILITY, in the constructor; no login, no LOGOUT.
    assert [line.split()[1] for line in server.lines] == [b"CAPABILITY"]


def test_session_watched_after_the_trip_is_cut_at_once(
    server_factory: Callable[..., StallingServer],
) -> None:
    """A login that finished just as the job stopped: watching it cuts it, so the copier
    sends nothing on it."""
    server = server_factory()
    session = open_session(_account(server), timeouts=PATIENT)
    interrupter = Interrupter()
    interrupter.trip()
    interrupter.watch(session)
    assert session.interrupted
    with pytest.raises(ConnectionInterrupted):
        session.select("INBOX")
    session.close()
    assert [line.split()[1] for line in server.lines] == [b"CAPABILITY", b"LOGIN"]


def test_the_end_of_a_job_is_not_held_by_its_stop_watcher() -> None:
    """The thread that waits for a stop ends with the job, at once: it once slept on the
    cancel event in steps of 0.1 s, and every job ended up to 0.1 s late (50 ms on average,
    a tenth of a 2,000-message copy on loopback)."""
    def refused(account: Account, **_: object) -> ImapSession:
        raise AuthError(f"{account.describe()}: refused")

    source = Account(host="src", login="a", password="x")
    destination = Account(host="dst", login="b", password="y", role="destination")
    took: list[float] = []
    for _ in range(5):
        started = time.monotonic()
        with pytest.raises(AuthError):
            Copier(source, destination, MemoryLedger(), connect=refused).run()
        took.append(time.monotonic() - started)
    # The fastest of five jobs, not their sum: the late end was in every job (each took
    # about 0.1 s), while a busy machine (CI, with CPU steal) may hold back one job or two;
    # the five together took up to 50 ms here under load, too near a bound of 0.1 s.
    assert min(took) < 0.05, took
    assert not [t for t in threading.enumerate() if t.name == "cancel-watch"]


def test_make_interruptibly_discards_what_is_made_after_the_stop_and_only_that() -> None:
    """What is made after the trip goes to ``discard``; what was made before is the
    caller's, and a later trip leaves it alone (the caller's session is cut its own way);
    an error while making reaches the caller."""
    discarded: list[str] = []
    release = threading.Event()
    interrupter = Interrupter()

    def slow() -> str:
        release.wait(10)
        return "late"

    thread, errors = _in_thread(lambda: make_interruptibly(slow, interrupter, discarded.append))
    time.sleep(0.1)
    interrupter.trip()
    thread.join(PROMPT_SECONDS)
    assert not thread.is_alive() and isinstance(errors[0], ConnectionInterrupted)
    release.set()
    deadline = time.monotonic() + 5
    while not discarded and time.monotonic() < deadline:
        time.sleep(0.01)
    assert discarded == ["late"]

    discarded.clear()
    interrupter = Interrupter()
    assert make_interruptibly(lambda: "made", interrupter, discarded.append) == "made"
    interrupter.trip()
    assert discarded == []

    def failing() -> str:
        raise OSError("refused")

    with pytest.raises(OSError, match="refused"):
        make_interruptibly(failing, Interrupter(), discarded.append)
    assert discarded == []
