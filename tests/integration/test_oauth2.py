"""OAuth2 sign-in against a real OAuth2-only Dovecot (``dovecot_oauth2``), whose tokens are
checked by a local introspection endpoint (``token_issuer``, tests/oauth2.py).

The token comes from a file or a command; it is fetched at every connection, once more
when the server refuses it, and is never written anywhere: not in the output, the job
database, the runner's log, its argv or environment, or the protocol trace.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from imapcopy_tui.engine import trace
from imapcopy_tui.engine.account import Account, AuthMethod
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.oauth2 import initial_response
from imapcopy_tui.engine.session import ImapSession, open_session, test_connection
from imapcopy_tui.errors import AuthError
from imapcopy_tui.launcher import launch_detached, runner_log_path
from imapcopy_tui.runner import run_job
from imapcopy_tui.storage.store import JobState
from tests.corpus import Corpus, fill_source
from tests.dovecot import DovecotServer
from tests.helpers import FAST, account, assert_identical, new_store, sync
from tests.oauth2 import TokenIssuer

pytestmark = pytest.mark.dovecot
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def oauth2_source(dovecot_oauth2: DovecotServer, token_issuer: TokenIssuer) -> tuple[str, Corpus]:
    """(user, corpus) on the OAuth2-only server, filled through an XOAUTH2 login."""
    user = "corpus-oauth2"
    client = IMAPClient(dovecot_oauth2.host, port=dovecot_oauth2.plain_port, ssl=False,
                        timeout=30)
    try:
        client.oauth2_login(user, token_issuer.issue(user))
        return user, fill_source(client, dovecot_oauth2.separator, dovecot_oauth2.prefix)
    finally:
        client.logout()


def oauth2_account(server: DovecotServer, user: str, auth: AuthMethod = AuthMethod.OAUTH2,
                   **source: str) -> Account:
    return account(server, user, password="", auth=auth, **source)


class TokenScript:
    """A token command that hands out the lines of a file, one per run, counting runs."""

    def __init__(self, directory: Path, tokens: list[str]) -> None:
        self.tokens_file = directory / "tokens"
        self.runs_file = directory / "runs"
        self.tokens_file.write_text("".join(f"{t}\n" for t in tokens))
        script = directory / "token.sh"
        script.write_text(
            f'echo run >> "{self.runs_file}"\n'
            f'sed -n "$(wc -l < "{self.runs_file}")p" "{self.tokens_file}"\n'
        )
        self.command = f"sh {script}"

    @property
    def runs(self) -> int:
        return len(self.runs_file.read_text().splitlines()) if self.runs_file.exists() else 0


@contextmanager
def traced(path: Path) -> Iterator[None]:
    trace.start(path)
    try:
        yield
    finally:
        trace.stop()


def secret_forms(user: str, token: str) -> list[bytes]:
    """The token as it could leak: raw, and base64 in either mechanism's response."""
    return [token.encode()] + [
        base64.b64encode(initial_response(mech, user, token)) for mech in ("XOAUTH2", "OAUTHBEARER")
    ]


@pytest.mark.parametrize("auth", [AuthMethod.XOAUTH2, AuthMethod.OAUTHBEARER])
def test_copy_from_an_oauth2_only_source(
    tmp_path: Path,
    auth: AuthMethod,
    dovecot_oauth2: DovecotServer,
    dovecot_dst: DovecotServer,
    token_issuer: TokenIssuer,
    oauth2_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """A token file, the mechanism asked for: the whole mailbox lands on a password
    destination, identical; the token was checked by the issuer and is not in the trace.
    The server really takes no password."""
    user, corpus = oauth2_source
    token = token_issuer.issue(user)
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    src = oauth2_account(dovecot_oauth2, user, auth, token_file=str(token_file))
    dst = account(dovecot_dst, unique_user, "destination")
    with traced(tmp_path / "trace"):
        outcome = sync(new_store(tmp_path), src, dst, connections=2)
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert_identical(corpus, dovecot_dst, unique_user)
    assert token in token_issuer.asked
    data = (tmp_path / "trace").read_bytes()
    assert f" AUTHENTICATE {auth.value.upper()}\n".encode() in data
    assert not any(form in data for form in secret_forms(user, token))
    with pytest.raises(AuthError, match="Unsupported authentication mechanism"):
        test_connection(account(dovecot_oauth2, user))


def test_expired_token_is_replaced_when_the_engine_reconnects(
    tmp_path: Path,
    dovecot_oauth2: DovecotServer,
    dovecot_dst: DovecotServer,
    token_issuer: TokenIssuer,
    oauth2_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The source connection is cut at the second folder, just after its token expired:
    the engine reconnects, runs the token command again, signs in with the new token and
    finishes the copy."""
    user, corpus = oauth2_source
    first, second = token_issuer.issue(user), token_issuer.issue(user)
    script = TokenScript(tmp_path, [first, second])
    opened = 0

    class CutSource(ImapSession):
        def examine_uids(self, name: str) -> Any:
            nonlocal opened
            opened += 1
            if opened == 2:
                token_issuer.revoke(first)
                self._client.socket().shutdown(socket.SHUT_RDWR)
            return super().examine_uids(name)

    def connect(acct: Account, **kwargs: Any) -> ImapSession:
        session = open_session(acct, **kwargs)
        return CutSource(acct, session._client) if acct.role == "source" else session

    asked = len(token_issuer.asked)
    src = oauth2_account(dovecot_oauth2, user, token_command=script.command)
    dst = account(dovecot_dst, unique_user, "destination")
    store = new_store(tmp_path)
    job = store.create_job(src, dst)
    outcome = run_job(store, job.id, src, dst, CopyOptions(connections=1, **FAST),
                      connect=connect)
    assert outcome.state is JobState.FINISHED, outcome.failure
    assert opened > 2  # the cut happened, and the copy went on
    assert script.runs == 2
    assert token_issuer.asked[asked:] == [first, second]
    assert_identical(corpus, dovecot_dst, unique_user)


def test_refused_token_is_fetched_once_more_then_refused(
    tmp_path: Path,
    dovecot_oauth2: DovecotServer,
    token_issuer: TokenIssuer,
    unique_user: str,
) -> None:
    """A refused token: the command runs once more and its new token is tried.  Refused
    again: one line naming the account and the command, saying to get a fresh token, and
    no third run."""
    expired, valid = token_issuer.issue(unique_user), token_issuer.issue(unique_user)
    token_issuer.revoke(expired)
    (tmp_path / "a").mkdir()
    recovers = TokenScript(tmp_path / "a", [expired, valid])
    test_connection(oauth2_account(dovecot_oauth2, unique_user, token_command=recovers.command))
    assert recovers.runs == 2

    (tmp_path / "b").mkdir()
    refused = TokenScript(tmp_path / "b", [expired, "never-issued", valid])
    src = oauth2_account(dovecot_oauth2, unique_user, AuthMethod.OAUTHBEARER,
                         token_command=refused.command)
    with pytest.raises(AuthError) as caught:
        test_connection(src)
    assert refused.runs == 2
    message = str(caught.value)
    assert message == (
        f"source account {unique_user} on {dovecot_oauth2.host}:{dovecot_oauth2.plain_port}: "
        "the server refused the OAuth2 access token ([AUTHENTICATIONFAILED] Authentication "
        f"failed.; status invalid_token); get a fresh token: check that {src.token_source()} "
        f"prints a current access token of {unique_user}, with the mail (IMAP) scope")
    assert src.token_source().startswith("the token command 'sh /")


def imapcopy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imapcopy_tui", *args], capture_output=True, text=True,
        timeout=120, cwd=ROOT, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
        check=False,
    )


def test_command_line_signs_in_with_a_token_and_refuses_an_expired_one(
    tmp_path: Path,
    dovecot_oauth2: DovecotServer,
    dovecot_dst: DovecotServer,
    token_issuer: TokenIssuer,
    unique_user: str,
) -> None:
    """``imapcopy test --oauthcommand1`` signs in (no password asked); ``imapcopy sync
    --oauthaccesstoken1`` with an expired token exits 4 with one line saying to get a fresh
    token.  The token is in no output, file (database, trace) or status."""
    server = ["--host1", dovecot_oauth2.host, "--port1", str(dovecot_oauth2.plain_port),
              "--user1", unique_user, "--plain1"]
    token = token_issuer.issue(unique_user)
    tested = imapcopy("test", *server, "--authmech1", "OAUTHBEARER",
                      "--oauthcommand1", f"echo {token}")
    assert tested.returncode == 0, tested.stderr
    assert "The connection to the source account is established." in tested.stdout

    token_issuer.revoke(token)
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    trace_file = tmp_path / "imap.trace"
    synced = imapcopy(
        "sync", *server, "--oauthaccesstoken1", str(token_file), "--debugimap", str(trace_file),
        "--host2", dovecot_dst.host, "--port2", str(dovecot_dst.plain_port),
        "--user2", unique_user, "--plain2", env={"IMAPCOPY_PASSWORD2": dovecot_dst.password},
    )
    assert synced.returncode == 4, synced.stderr
    (line,) = synced.stderr.splitlines()
    assert line.startswith(f"imapcopy: error: source account {unique_user} on ")
    assert "the server refused the OAuth2 access token" in line
    assert f"get a fresh token: put a fresh access token in {token_file}" in line
    status = imapcopy("status", unique_user)
    assert "failed" in status.stdout
    forms = secret_forms(unique_user, token)
    outputs = (tested.stdout + tested.stderr + synced.stdout + synced.stderr + status.stdout)
    assert not any(form.decode() in outputs for form in forms)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != token_file]
    assert trace_file in written and any(p.name.startswith("jobs.sqlite3") for p in written)
    for path in written:
        assert not any(form in path.read_bytes() for form in forms), path
    assert " AUTHENTICATE XOAUTH2" in trace_file.read_text()


def test_detached_runner_fetches_its_own_tokens(
    tmp_path: Path,
    dovecot_oauth2: DovecotServer,
    dovecot_dst: DovecotServer,
    token_issuer: TokenIssuer,
    oauth2_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """The app's runner gets the token command, not a token: it runs the command itself
    (once per connection), copies everything, and no token is in its argv, environment,
    log or database."""
    user, corpus = oauth2_source
    token = token_issuer.issue(user)
    script = TokenScript(tmp_path, [token] * 10)
    src = oauth2_account(dovecot_oauth2, user, token_command=script.command)
    dst = account(dovecot_dst, unique_user, "destination")
    store = new_store(tmp_path)
    job = store.create_job(src, dst)
    process = launch_detached(store, job.id, src, dst)
    cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    environ = Path(f"/proc/{process.pid}/environ").read_bytes()
    assert process.wait(timeout=60) == 0
    finished = store.get(job.id)
    assert finished.state is JobState.FINISHED, finished.failure
    assert_identical(corpus, dovecot_dst, unique_user)
    assert script.runs >= 1 and token in token_issuer.asked
    log = runner_log_path(store, job.id).read_bytes()
    database = b"".join(p.read_bytes() for p in tmp_path.glob("jobs.sqlite3*"))
    for form in secret_forms(user, token):
        for where in (cmdline, environ, log, database):
            assert form not in where
