"""A new destination account opened by two connections at once: Dovecot may answer one
SELECT "[ALREADYEXISTS] Mailbox already exists" while both create its INBOX (seen once
in CI: the INBOX of a fresh user failed as "cannot open the destination folder").  The
session opens the folder again, once; any other refusal stays a refusal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.session import open_session
from imapcopy_tui.errors import ServerError

RACE = b"NO [ALREADYEXISTS] Mailbox already exists (0.012 + 0.000 + 0.011 secs)."


def serve(first_select: bytes, selects: list[bytes]) -> Iterator[int]:
    """A one-connection IMAP server whose first SELECT is answered ``first_select``."""
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
            for line in lines:
                tag, command = line.split()[:2]
                command = command.upper()
                if command == b"CAPABILITY":
                    conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
                elif command == b"SELECT":
                    selects.append(line)
                    if len(selects) == 1:
                        conn.sendall(tag + b" " + first_select + b"\r\n")
                    else:
                        conn.sendall(b"* 0 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
                                     b"* OK [UIDNEXT 1] ok\r\n" + tag + b" OK [READ-WRITE] in\r\n")
                elif command == b"LOGOUT":
                    conn.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                    return
                else:
                    conn.sendall(tag + b" OK done\r\n")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(5)


@pytest.fixture
def racing_server(request: pytest.FixtureRequest) -> Iterator[tuple[int, list[bytes]]]:
    selects: list[bytes] = []
    for port in serve(request.param, selects):
        yield port, selects


def account(port: int) -> Account:
    return Account(host="127.0.0.1", port=port, login="a", password="p",
                   security=Security.PLAIN, role="destination")


@pytest.mark.parametrize("racing_server", [RACE], indirect=True)
def test_a_select_lost_to_the_servers_own_autocreate_is_tried_once_more(
    racing_server: tuple[int, list[bytes]],
) -> None:
    port, selects = racing_server
    with open_session(account(port)) as session:
        state = session.select("INBOX")
    assert state.uidvalidity == 7
    assert len(selects) == 2


@pytest.mark.parametrize("racing_server", [b"NO Mailbox does not exist"], indirect=True)
def test_another_refusal_is_not_retried(racing_server: tuple[int, list[bytes]]) -> None:
    port, selects = racing_server
    with open_session(account(port)) as session, pytest.raises(ServerError, match="does not"):
        session.select("INBOX")
    assert len(selects) == 1
