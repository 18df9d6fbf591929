"""Connection tests against real servers: each mistake gives its own clear error."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.session import ConnectStep, Timeouts, test_connection
from imapcopy_tui.errors import (
    AuthError,
    CertificateHostnameError,
    CertificateUntrustedError,
    DnsError,
    NotImapError,
    NotTlsError,
    PortClosedError,
    ServerTimeoutError,
    StartTlsUnavailableError,
)
from tests.dovecot import CERT_HOSTNAME, DovecotServer, free_ports
from tests.helpers import account

pytestmark = pytest.mark.dovecot
QUICK = Timeouts(connect=1.0, read=5.0)


def steps_of(acct: Account) -> list[ConnectStep]:
    seen: list[ConnectStep] = []
    test_connection(acct, timeouts=QUICK, on_step=seen.append)
    return seen


def test_tls_with_the_servers_ca_connects_in_two_steps(dovecot_src: DovecotServer) -> None:
    """Implicit TLS to the right name with the CA file: connecting, then authenticated."""
    acct = account(dovecot_src, "alice", host=CERT_HOSTNAME, port=dovecot_src.tls_port,
                   security=Security.TLS, ca_file=str(dovecot_src.ca_file))
    assert steps_of(acct) == [ConnectStep.CONNECTING, ConnectStep.AUTHENTICATED]


def test_starttls_with_the_servers_ca_connects(dovecot_src: DovecotServer) -> None:
    """STARTTLS on the plain port upgrades and logs in."""
    acct = account(dovecot_src, "alice", host=CERT_HOSTNAME, security=Security.STARTTLS,
                   ca_file=str(dovecot_src.ca_file))
    assert steps_of(acct)[-1] is ConnectStep.AUTHENTICATED


def test_wrong_password_names_the_account(dovecot_src: DovecotServer) -> None:
    """A refused login says which account, on which server, and stops after step one."""
    acct = account(dovecot_src, "alice", password="nope", role="destination")
    seen: list[ConnectStep] = []
    with pytest.raises(AuthError) as caught:
        test_connection(acct, timeouts=QUICK, on_step=seen.append)
    assert seen == [ConnectStep.CONNECTING]
    message = str(caught.value)
    assert f"destination account alice on {dovecot_src.host}:{dovecot_src.plain_port}" in message
    assert "AUTHENTICATIONFAILED" in message or "Authentication failed" in message
    assert "nope" not in message


def test_closed_port_is_reported(dovecot_src: DovecotServer) -> None:
    """Nothing listening: a port error suggesting the usual ports."""
    with pytest.raises(PortClosedError, match="nothing accepts connections on port"):
        steps_of(account(dovecot_src, "alice", port=free_ports(1)[0]))


def test_tls_to_the_plain_port_is_not_tls(dovecot_src: DovecotServer) -> None:
    """TLS spoken to a plain IMAP port: says the port does not speak TLS."""
    acct = account(dovecot_src, "alice", host=CERT_HOSTNAME, security=Security.TLS,
                   ca_file=str(dovecot_src.ca_file))
    with pytest.raises(NotTlsError, match="does not speak TLS"):
        steps_of(acct)


def test_untrusted_certificate_is_refused(dovecot_src: DovecotServer) -> None:
    """A self-signed certificate without its CA file is refused by default."""
    acct = account(dovecot_src, "alice", host=CERT_HOSTNAME, port=dovecot_src.tls_port,
                   security=Security.TLS)
    with pytest.raises(CertificateUntrustedError, match="not trusted"):
        steps_of(acct)


def test_insecure_option_skips_the_check(dovecot_src: DovecotServer) -> None:
    """Only the explicit option accepts an untrusted certificate."""
    acct = account(dovecot_src, "alice", host=CERT_HOSTNAME, port=dovecot_src.tls_port,
                   security=Security.TLS, verify_certificate=False)
    assert steps_of(acct)[-1] is ConnectStep.AUTHENTICATED


def test_wrong_host_name_is_reported(dovecot_src: DovecotServer) -> None:
    """A trusted certificate for another name (localhost, reached as 127.0.0.1)."""
    acct = account(dovecot_src, "alice", port=dovecot_src.tls_port, security=Security.TLS,
                   ca_file=str(dovecot_src.ca_file))
    with pytest.raises(CertificateHostnameError, match="not valid for the name '127.0.0.1'"):
        steps_of(acct)


def test_missing_starttls_is_an_error_not_a_downgrade(dovecot_notls: DovecotServer) -> None:
    """STARTTLS asked of a server that does not offer it: an error, never plain text."""
    acct = account(dovecot_notls, "alice", security=Security.STARTTLS)
    with pytest.raises(StartTlsUnavailableError, match="does not offer STARTTLS"):
        steps_of(acct)


def test_unknown_host_is_a_dns_error() -> None:
    """A name that does not resolve (.invalid never does)."""
    acct = Account(host="imap.does-not-exist.invalid", login="a", password="p", port=993)
    with pytest.raises(DnsError, match="does not resolve"):
        steps_of(acct)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says anything."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    yield listener.getsockname()[1]
    listener.close()


def test_silent_server_times_out(silent_server: int) -> None:
    """No greeting within the connect timeout: a timeout error, not a hang."""
    acct = Account(host="127.0.0.1", login="a", password="p", port=silent_server,
                   security=Security.PLAIN)
    with pytest.raises(ServerTimeoutError, match="no IMAP greeting"):
        steps_of(acct)


@pytest.fixture
def ssh_like_server() -> Iterator[int]:
    """A port that greets like an SSH server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        conn.recv(100)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()


def test_other_protocol_is_not_imap(ssh_like_server: int) -> None:
    """Something that is not IMAP answers: say so."""
    acct = Account(host="127.0.0.1", login="a", password="p", port=ssh_like_server,
                   security=Security.PLAIN)
    with pytest.raises(NotImapError, match="not an IMAP server|without an IMAP greeting"):
        steps_of(acct)


def test_pipelined_examine_reports_a_missing_folder_and_stays_usable(
    dovecot_src: DovecotServer, unique_user: str
) -> None:
    """EXAMINE + UID SEARCH sent together: a folder the server refuses gives its words,
    and the connection goes on working (both answers were read)."""
    from imapcopy_tui.engine.session import open_session
    from imapcopy_tui.errors import ServerError

    client = dovecot_src.client(unique_user)
    client.append("INBOX", b"Subject: one\r\n\r\nbody\r\n")
    client.append("INBOX", b"Subject: two\r\n\r\nbody\r\n")
    client.logout()
    with open_session(account(dovecot_src, unique_user), timeouts=QUICK) as session:
        with pytest.raises(ServerError, match="Mailbox doesn't exist|NONEXISTENT"):
            session.examine_uids("No such folder")
        state, uids = session.examine_uids("INBOX")
        assert (state.exists, uids) == (2, [1, 2])
        assert sorted(session.fetch(uids, ("RFC822.SIZE",))) == [1, 2]


# --- the wrong port or the wrong security: a clear error within the timeout ------------

SHORT = Timeouts(connect=0.5, read=2.0)
NO_GREETING = ("no IMAP greeting within the time limit; check the port and the security "
               "setting (a TLS port answers nothing to a plain connection)")


def timed_failure(acct: Account) -> tuple[Exception, float]:
    """The error of a connection test with SHORT timeouts, and how long it took."""
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        test_connection(acct, timeouts=SHORT)
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize("security", [Security.PLAIN, Security.STARTTLS])
def test_plain_text_to_the_tls_port_times_out_with_a_hint(
    dovecot_src: DovecotServer, security: Security
) -> None:
    """A TLS port waits for a handshake and says nothing: the connect timeout ends the
    wait, and the message points at the port and security setting."""
    acct = account(dovecot_src, "alice", port=dovecot_src.tls_port, security=security)
    error, seconds = timed_failure(acct)
    assert isinstance(error, ServerTimeoutError)
    assert str(error) == f"{acct.describe()}: {NO_GREETING}"
    assert seconds < SHORT.connect + 1.5


@pytest.fixture
def http_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """A web server on a loopback port: "HTTP/1.1 400 Bad Request" to anything; with the
    parameter "first", at once on connecting, else after the first bytes it receives."""
    speaks_first = getattr(request, "param", "") == "first"
    listener = socket.create_server(("127.0.0.1", 0))

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            if not speaks_first and not conn.recv(4096):
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("security", [Security.PLAIN, Security.STARTTLS])
def test_web_server_waiting_for_a_request_times_out(http_server: int,
                                                    security: Security) -> None:
    """An HTTP port waits for the client, an IMAP client for the server: the connect
    timeout ends it, never a hang."""
    acct = Account(host="127.0.0.1", login="a", password="p", port=http_server,
                   security=security)
    error, seconds = timed_failure(acct)
    assert isinstance(error, ServerTimeoutError)
    assert str(error) == f"{acct.describe()}: {NO_GREETING}"
    assert seconds < SHORT.connect + 1.5


def test_tls_to_a_web_server_is_not_tls(http_server: int) -> None:
    """TLS to an HTTP port: its "400 Bad Request" is no TLS answer."""
    acct = Account(host="127.0.0.1", login="a", password="p", port=http_server)
    error, _ = timed_failure(acct)
    assert isinstance(error, NotTlsError)
    assert str(error) == (f"{acct.describe()}: port {http_server} does not speak TLS; "
                          "choose STARTTLS (or the TLS port, usually 993)")


@pytest.mark.parametrize("http_server", ["first"], indirect=True)
def test_web_server_speaking_first_is_not_imap(http_server: int) -> None:
    """A server whose first words are HTTP, not an IMAP greeting: quoted, with the
    question to ask."""
    acct = Account(host="127.0.0.1", login="a", password="p", port=http_server,
                   security=Security.PLAIN)
    error, _ = timed_failure(acct)
    assert isinstance(error, NotImapError)
    assert str(error) == (f"{acct.describe()}: the server on port {http_server} answered "
                          "without an IMAP greeting (HTTP/1.1 400 Bad Request); "
                          "is this an IMAP port?")
