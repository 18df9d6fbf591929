"""The real-Dovecot test infrastructure does what the integration tests rely on."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import imapclient
import pytest
from imapclient.exceptions import IMAPClientError, LoginError

from tests.corpus import INBOX, fill_source, folder_path, list_folder_names, read_folder
from tests.dovecot import CERT_HOSTNAME, QUOTA_USER, DovecotServer, live_group_members

pytestmark = pytest.mark.dovecot

SERVERS = ["dovecot_src", "dovecot_dot"]


def _server(request: pytest.FixtureRequest, fixture: str) -> DovecotServer:
    server: DovecotServer = request.getfixturevalue(fixture)
    return server


def _message(size: int, subject: str) -> bytes:
    line = b"0123456789" * 7 + b"\r\n"
    return f"Subject: {subject}\r\nFrom: a@example.org\r\n\r\n".encode() + line * (size // 72)


@pytest.mark.parametrize("fixture", SERVERS)
def test_server_starts_and_accepts_login(
    request: pytest.FixtureRequest, fixture: str, unique_user: str
) -> None:
    """Both separator modes start, log any user in, and announce their namespace."""
    server = _server(request, fixture)
    with server.client(unique_user) as client:
        personal = client.namespace().personal
        assert personal[0] == (server.prefix, server.separator)
        assert list_folder_names(client) == {"INBOX"}


@pytest.mark.parametrize("fixture", SERVERS)
def test_corpus_lands_exactly(
    request: pytest.FixtureRequest, fixture: str, unique_user: str
) -> None:
    """The corpus is stored as appended: folders, counts, bytes, flags and internal dates."""
    server = _server(request, fixture)
    with server.client(unique_user) as client:
        corpus = fill_source(client, server.separator, server.prefix)
        names = list_folder_names(client)
        assert names == corpus.names()
        assert {folder_path(n, server.separator, server.prefix) for n in names} == set(
            corpus.messages
        )
        for path, expected in corpus.messages.items():
            got = read_folder(client, corpus.name(path))
            assert got == list(expected), corpus.name(path)
            assert [r.uid for r in got] == [r.uid for r in expected]

    # The special cases are really there.
    assert corpus.message_count == 25
    assert len(corpus.messages[INBOX]) == 10
    assert corpus.messages[("Empty",)] == () and corpus.messages[("Projects", "Empty child")] == ()
    (large,) = corpus.landmark("large")
    assert large.size > 3_000_000
    (anonymous,) = corpus.landmark("no_message_id")
    assert anonymous.header("Message-ID") is None
    first, second = corpus.landmark("same_message_id")
    assert first.header("Message-ID") == second.header("Message-ID") and first != second
    one, two = corpus.landmark("exact_duplicates")
    assert one == two and one.uid != two.uid
    (eight_bit,) = corpus.landmark("eight_bit")
    assert not eight_bit.raw.isascii()
    offsets = {r.internal_date.utcoffset() for rs in corpus.messages.values() for r in rs}
    assert len(offsets) > 3
    flags = {f for rs in corpus.messages.values() for r in rs for f in r.flags}
    assert flags >= {"\\Seen", "\\Flagged", "\\Answered", "\\Draft"}
    assert flags >= {"$Forwarded", "$Junk", "ProjectX"}
    if server.separator == ".":
        assert "INBOX.Archive.2019.Q1" in names and "INBOX.Отчёты" in names
    else:
        assert "Archive/2019/Q1" in names and "Old Mail Box" in names


def test_corpus_is_deterministic(
    dovecot_src: DovecotServer, make_user: Callable[[], str]
) -> None:
    """Two fills append byte-identical messages with the same flags and dates."""
    corpora = []
    for _ in range(2):
        with dovecot_src.client(make_user()) as client:
            corpora.append(fill_source(client, "/", ""))
    assert corpora[0] == corpora[1]


def test_wrong_password_is_refused(dovecot_src: DovecotServer, unique_user: str) -> None:
    """A wrong password gets Dovecot's AUTHENTICATIONFAILED, and the right one still works."""
    client = imapclient.IMAPClient(dovecot_src.host, port=dovecot_src.plain_port, ssl=False)
    with pytest.raises(LoginError, match="AUTHENTICATIONFAILED"):
        client.login(unique_user, "not-" + dovecot_src.password)
    client.login(unique_user, dovecot_src.password)
    client.logout()


def _tls_greeting(server: DovecotServer, hostname: str) -> bytes:
    with socket.create_connection((server.host, server.tls_port), timeout=5) as raw:
        with server.ssl_context().wrap_socket(raw, server_hostname=hostname) as sock:
            return sock.recv(200)


def test_tls_port_verifies_only_for_localhost(dovecot_src: DovecotServer) -> None:
    """The IMAPS certificate verifies against ca_file for "localhost", not for 127.0.0.1."""
    assert _tls_greeting(dovecot_src, CERT_HOSTNAME).startswith(b"* OK")
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _tls_greeting(dovecot_src, "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError):
        # The system trust store knows nothing of the test CA.
        with socket.create_connection((dovecot_src.host, dovecot_src.tls_port)) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname=CERT_HOSTNAME)


def test_client_helper_logs_in_over_tls(dovecot_src: DovecotServer, unique_user: str) -> None:
    """client(tls=True) reaches the IMAPS port with a verified certificate."""
    with dovecot_src.client(unique_user, tls=True) as client:
        assert client.ssl
        assert "INBOX" in list_folder_names(client)


def test_plain_port_offers_starttls(dovecot_src: DovecotServer, unique_user: str) -> None:
    """The plain port announces STARTTLS, and upgrading with the test CA then logging in works."""
    client = imapclient.IMAPClient(CERT_HOSTNAME, port=dovecot_src.plain_port, ssl=False)
    assert b"STARTTLS" in client.capabilities()
    client.starttls(dovecot_src.ssl_context())
    client.login(unique_user, dovecot_src.password)
    client.logout()


def test_notls_server_offers_no_tls(dovecot_notls: DovecotServer, unique_user: str) -> None:
    """dovecot_notls has no STARTTLS and no IMAPS port, yet takes a plaintext login."""
    assert dovecot_notls.tls_port == 0
    client = imapclient.IMAPClient(dovecot_notls.host, port=dovecot_notls.plain_port, ssl=False)
    assert b"STARTTLS" not in client.capabilities()
    client.login(unique_user, dovecot_notls.password)
    client.logout()


def test_quota_refuses_append_over_quota(dovecot_dst: DovecotServer, quota_user: str) -> None:
    """A quota user is refused an APPEND over 300 KiB with [OVERQUOTA]; others are not."""
    message = _message(120_000, "filler")
    with dovecot_dst.client(quota_user) as client:
        _roots, quotas = client.get_quota_root("INBOX")
        assert [(q.resource, q.limit) for q in quotas] == [("STORAGE", 300)]
        client.append("INBOX", message)
        client.append("INBOX", message)
        with pytest.raises(IMAPClientError, match=r"\[OVERQUOTA\] Quota exceeded"):
            client.append("INBOX", message)
        assert client.select_folder("INBOX")[b"EXISTS"] == 2
    with dovecot_dst.client(dovecot_dst.name + "-unlimited-" + quota_user) as client:
        for _ in range(3):
            client.append("INBOX", message)


def test_fixed_quota_user_exists(dovecot_dst: DovecotServer) -> None:
    """dovecot_dst's QUOTA_USER has its quota from the constructor's quota_users."""
    dovecot_dst.reset_user(QUOTA_USER)
    with dovecot_dst.client(QUOTA_USER) as client:
        _roots, quotas = client.get_quota_root("INBOX")
        assert [(q.resource, q.usage, q.limit) for q in quotas] == [("STORAGE", 0, 300)]


def test_restart_keeps_ports_and_mail(dovecot_root: Path, unique_user: str) -> None:
    """restart() comes back on the same ports with the same mail and UIDVALIDITY."""
    with DovecotServer(dovecot_root, "restart") as server:
        ports = (server.plain_port, server.tls_port)
        with server.client(unique_user) as client:
            client.create_folder("Kept")
            client.append("Kept", _message(1000, "kept"), [r"\Seen"])
            before = read_folder(client, "Kept")
            validity = client.folder_status("Kept", ["UIDVALIDITY"])
        server.restart()
        assert (server.plain_port, server.tls_port) == ports
        with server.client(unique_user) as client:
            assert read_folder(client, "Kept") == before
            assert client.folder_status("Kept", ["UIDVALIDITY"]) == validity


def test_stop_leaves_no_process(dovecot_root: Path) -> None:
    """stop() ends the master and every child it forked (login, auth, imap...)."""
    server = DovecotServer(dovecot_root, "stopping", tls=False)
    server.start()
    client = server.client("someone")  # an imap process, left connected on purpose
    pgid = server.pid
    assert pgid is not None
    server.stop()
    assert not server.running
    assert live_group_members(pgid) == []
    with pytest.raises((OSError, IMAPClientError)):
        client.noop()


def test_rawlog_records_a_session(dovecot_src: DovecotServer, unique_user: str) -> None:
    """enable_rawlog(user) makes Dovecot write that user's IMAP traffic to files."""
    rawlog = dovecot_src.enable_rawlog(unique_user)
    with dovecot_src.client(unique_user) as client:
        client.noop()
    written = b"".join(p.read_bytes() for p in rawlog.iterdir())
    assert b"NOOP" in written
