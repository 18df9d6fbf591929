"""Trust: certificates and host names checked by default on both TLS paths, STARTTLS that
fails closed (even when a man in the middle removes it), and the options that loosen this
only when asked, with a warning."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imapcopy_tui import cli
from imapcopy_tui.engine.account import Security
from imapcopy_tui.engine.session import Timeouts, test_connection
from imapcopy_tui.errors import (
    CertificateHostnameError,
    CertificateUntrustedError,
    StartTlsUnavailableError,
)
from tests.dovecot import CERT_HOSTNAME, DovecotServer
from tests.helpers import account

pytestmark = pytest.mark.dovecot
QUICK = Timeouts(connect=2.0, read=5.0)


def test_starttls_checks_the_certificate(dovecot_src: DovecotServer) -> None:
    """After STARTTLS the certificate is verified as on the TLS port: untrusted without the
    CA file, wrong name for 127.0.0.1 with it."""
    untrusted = account(dovecot_src, "alice", host=CERT_HOSTNAME, security=Security.STARTTLS)
    with pytest.raises(CertificateUntrustedError, match="not trusted"):
        test_connection(untrusted, timeouts=QUICK)
    wrong_name = account(dovecot_src, "alice", security=Security.STARTTLS,
                         ca_file=str(dovecot_src.ca_file))
    with pytest.raises(CertificateHostnameError, match="not valid for the name '127.0.0.1'"):
        test_connection(wrong_name, timeouts=QUICK)


class ManInTheMiddle:
    """A relay between the client and a server's plain port that tampers with STARTTLS.

    ``strip``: removes STARTTLS from every capability list the server sends.
    ``refuse``: answers the client's STARTTLS itself with a NO (the server never sees it).
    Everything the client sent is kept in :attr:`from_client`.
    """

    def __init__(self, upstream: tuple[str, int], mode: str) -> None:
        self.upstream = upstream
        self.mode = mode
        self.from_client = bytearray()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            threading.Thread(target=self._downstream, args=(server, client), daemon=True).start()
            threading.Thread(target=self._upstream, args=(client, server), daemon=True).start()

    def _downstream(self, server: socket.socket, client: socket.socket) -> None:
        try:
            for line in server.makefile("rb"):
                if self.mode == "strip":
                    line = re.sub(rb" STARTTLS(?=[ \]\r])", b"", line)
                client.sendall(line)
        except OSError:
            pass
        finally:
            client.close()

    def _upstream(self, client: socket.socket, server: socket.socket) -> None:
        try:
            for line in client.makefile("rb"):
                self.from_client += line
                starttls = re.match(rb"(\S+) STARTTLS\r\n", line, re.IGNORECASE)
                if self.mode == "refuse" and starttls:
                    client.sendall(starttls.group(1) + b" NO STARTTLS is not available\r\n")
                    continue
                server.sendall(line)
        except OSError:
            pass
        finally:
            server.close()

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def mitm(dovecot_src: DovecotServer, request: pytest.FixtureRequest) -> Iterator[ManInTheMiddle]:
    proxy = ManInTheMiddle((dovecot_src.host, dovecot_src.plain_port), request.param)
    yield proxy
    proxy.close()


@pytest.mark.parametrize(
    ("mitm", "words"),
    [("strip", "does not offer STARTTLS"), ("refuse", "refused STARTTLS")],
    indirect=["mitm"],
)
def test_starttls_tampered_with_fails_without_sending_the_password(
    dovecot_src: DovecotServer, mitm: ManInTheMiddle, words: str
) -> None:
    """A STARTTLS removed from the capabilities, or refused, by someone in between: an
    error, and neither the password nor any login command ever crosses the wire."""
    acct = account(dovecot_src, "alice", host="127.0.0.1", port=mitm.port,
                   security=Security.STARTTLS, ca_file=str(dovecot_src.ca_file))
    with pytest.raises(StartTlsUnavailableError, match=words):
        test_connection(acct, timeouts=QUICK)
    sent = bytes(mitm.from_client)
    assert sent, "the client never went through the proxy"
    assert b"CAPABILITY" in sent.upper() or b"STARTTLS" in sent.upper()
    assert dovecot_src.password.encode() not in sent
    assert b" LOGIN " not in sent.upper() and b"AUTHENTICATE" not in sent.upper()


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def tls_test_args(server: DovecotServer, passfile: Path, host: str, *extra: str) -> list[str]:
    return ["test", "--host1", host, "--port1", str(server.tls_port), "--ssl1",
            "--user1", "alice", "--passfile1", str(passfile), *extra]


@pytest.fixture
def passfile(tmp_path: Path, dovecot_src: DovecotServer) -> Path:
    path = tmp_path / "pass"
    path.write_text(dovecot_src.password + "\n")
    return path


def test_cli_trust_options_work_as_documented(
    dovecot_src: DovecotServer, passfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without options the test certificate is refused (exit 3); --cafile1 trusts it;
    the wrong name is refused even then; --insecure1 connects, with a warning."""
    code, _, err = run_cli(capsys, *tls_test_args(dovecot_src, passfile, CERT_HOSTNAME))
    assert code == cli.ExitCode.CONNECTION and "certificate is not trusted" in err
    cafile = ("--cafile1", str(dovecot_src.ca_file))
    code, out, err = run_cli(capsys, *tls_test_args(dovecot_src, passfile, CERT_HOSTNAME, *cafile))
    assert code == 0 and out.endswith("The connection to the source account is established.\n"), err
    assert err == ""
    code, _, err = run_cli(capsys, *tls_test_args(dovecot_src, passfile, "127.0.0.1", *cafile))
    assert code == cli.ExitCode.CONNECTION and "not valid for the name '127.0.0.1'" in err
    code, _, err = run_cli(capsys, *tls_test_args(dovecot_src, passfile, CERT_HOSTNAME,
                                                  "--insecure1"))
    assert code == 0
    assert err.startswith("imapcopy: warning: the certificate of the source server localhost "
                          "is not checked")


@pytest.mark.parametrize("content", [None, "not a certificate\n"], ids=["missing", "garbage"])
def test_unusable_ca_file_is_named(
    tmp_path: Path, dovecot_src: DovecotServer, passfile: Path,
    capsys: pytest.CaptureFixture[str], content: str | None,
) -> None:
    """A CA file that does not exist or holds no certificate: a config error (exit 2)
    naming the file, not a connection error."""
    cafile = tmp_path / "ca.pem"
    if content is not None:
        cafile.write_text(content)
    code, _, err = run_cli(capsys, *tls_test_args(dovecot_src, passfile, CERT_HOSTNAME,
                                                  "--cafile1", str(cafile)))
    assert code == cli.ExitCode.USAGE
    assert f"the CA file {cafile} cannot be used" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("option", "host", "warned"),
    [
        ("--plain1", "imap.example.org", True),
        ("--plain1", "127.0.0.1", False),  # loopback: nothing leaves the machine
        ("--tls1", "imap.example.org", False),
        ("--ssl1", "imap.example.org", False),
    ],
)
def test_unencrypted_only_when_asked_and_then_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    option: str, host: str, warned: bool,
) -> None:
    """Only --plain gives an unencrypted account (else TLS by default); it warns unless the
    server is this machine."""
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw")
    args = cli.build_parser().parse_args(["test", "--host1", host, "--user1", "a", option])
    acct = cli.account_from_args(args, "1")
    assert (acct.security is Security.PLAIN) == (option == "--plain1")
    err = capsys.readouterr().err
    assert ("is not encrypted" in err) == warned
    default = cli.account_from_args(
        cli.build_parser().parse_args(["test", "--host1", host, "--user1", "a"]), "1")
    assert default.security is Security.TLS and default.verify_certificate
