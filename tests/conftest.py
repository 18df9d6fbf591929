"""Shared fixtures: an isolated machine for every test, and real Dovecot servers.

Every test gets its own XDG directories and job database under ``tmp_path`` and no
password from the environment.  The Dovecot servers are session-scoped and start only when
a test asks for one; mailboxes are kept apart by giving each test fresh user names
(:func:`unique_user`, :func:`make_user`): on these servers any name logs in with the
server's password and starts with an empty mailbox.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.corpus import Corpus, fill_source
from tests.dovecot import QUOTA_RULE, QUOTA_USER, DovecotServer, find_binary, make_server_root
from tests.faultproxy import FaultProxy
from tests.oauth2 import TokenIssuer, oauth2_auth_config

_user_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def isolated_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every per-user location into ``tmp_path`` and drop passwords from the env.

    ``HOME`` is kept (some libraries need a real one); the XDG variables win over it.
    """
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    monkeypatch.setenv("IMAPCOPY_DB", str(tmp_path / "jobs.sqlite3"))
    monkeypatch.delenv("IMAPCOPY_PASSWORD1", raising=False)
    monkeypatch.delenv("IMAPCOPY_PASSWORD2", raising=False)


# --- users ------------------------------------------------------------------------------


def _new_user(node_name: str, tag: str = "") -> str:
    """``u<n>-<test-name>``: unique in the session, short, and within Dovecot's user chars."""
    slug = re.sub(r"[^a-z0-9]+", "-", node_name.lower().removeprefix("test_")).strip("-")
    name = f"u{next(_user_numbers)}-{slug[:24].rstrip('-')}"
    return f"{name}-{tag}" if tag else name


@pytest.fixture
def unique_user(request: pytest.FixtureRequest) -> str:
    """A user name no other test uses: a fresh, empty mailbox on every server."""
    return _new_user(request.node.name)


@pytest.fixture
def make_user(request: pytest.FixtureRequest) -> Callable[[], str]:
    """A factory of further fresh user names, for tests needing several accounts."""
    return lambda: _new_user(request.node.name)


@pytest.fixture
def quota_user(request: pytest.FixtureRequest, dovecot_dst: DovecotServer) -> str:
    """A fresh user on ``dovecot_dst`` whose storage quota is ``QUOTA_RULE`` (300 KiB)."""
    name = _new_user(request.node.name, "q")
    dovecot_dst.add_quota_user(name, QUOTA_RULE)
    return name


# --- servers ----------------------------------------------------------------------------


def _require_dovecot() -> None:
    """Skip without Dovecot on a workstation; fail in CI, where the tests are the proof."""
    if find_binary("dovecot") is not None:
        return
    message = "the dovecot binary is missing: install dovecot-imapd to run these tests"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def dovecot_root() -> Iterator[Path]:
    """A short directory holding every server of the session; removed at the end.

    Set ``IMAPCOPY_KEEP_DOVECOT=1`` to keep it (configs, logs, mail) for a post-mortem.
    """
    _require_dovecot()
    root = make_server_root()
    yield root
    if os.environ.get("IMAPCOPY_KEEP_DOVECOT"):
        print(f"\nDovecot test files kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


def _serve(server: DovecotServer) -> Iterator[DovecotServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot_src(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A source server: separator ``/``, no prefix, STARTTLS and IMAPS."""
    yield from _serve(DovecotServer(dovecot_root, "src"))


@pytest.fixture(scope="session")
def dovecot_dst(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A destination server like ``dovecot_src``, where ``QUOTA_USER`` has a 300 KiB quota."""
    yield from _serve(DovecotServer(dovecot_root, "dst", quota_users={QUOTA_USER: QUOTA_RULE}))


@pytest.fixture
def source_proxy(dovecot_src: DovecotServer) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``dovecot_src``'s plain port (one per test)."""
    with FaultProxy(dovecot_src.host, dovecot_src.plain_port) as proxy:
        yield proxy


@pytest.fixture
def destination_proxy(dovecot_dst: DovecotServer) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``dovecot_dst``'s plain port (one per test)."""
    with FaultProxy(dovecot_dst.host, dovecot_dst.plain_port) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def dovecot_dot(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A Courier/Cyrus-style server: separator ``.``, every folder under ``INBOX.``."""
    yield from _serve(DovecotServer(dovecot_root, "dot", separator=".", prefix="INBOX."))


@pytest.fixture(scope="session")
def dovecot_notls(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A plaintext-only server: no STARTTLS offered, no IMAPS port (``tls_port == 0``)."""
    yield from _serve(DovecotServer(dovecot_root, "notls", tls=False))


APPEND_LIMIT = 1_000_000


@pytest.fixture(scope="session")
def dovecot_appendlimit(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A destination announcing ``APPENDLIMIT=1000000`` (RFC 7889) and enforcing it."""
    config = (
        f"imap_capability = +APPENDLIMIT={APPEND_LIMIT}\n"
        f"plugin {{\n  quota_max_mail_size = {APPEND_LIMIT}\n}}\n"
    )
    # quota_max_mail_size belongs to the quota plugin: one quota user switches it on.
    server = DovecotServer(
        dovecot_root, "limit", quota_users={"limit-quota": "*:storage=1G"}, extra_config=config
    )
    yield from _serve(server)


# Debian's Dovecot ships the plugin that offers COMPRESS=DEFLATE (RFC 4978) after login.
ZLIB_CONFIG = "protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}\n"


@pytest.fixture(scope="session")
def dovecot_zlib(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A server offering COMPRESS=DEFLATE after login (STARTTLS and IMAPS too); tests copy
    between two users of it."""
    yield from _serve(DovecotServer(dovecot_root, "zlib", extra_config=ZLIB_CONFIG))


EXCHANGE_FOLDERS = {
    "Sent Items": "\\Sent",
    "Deleted Items": "\\Trash",
    "Junk Email": "\\Junk",
    "Drafts": "\\Drafts",
    "Archive": "\\Archive",
}
GMAIL_FOLDERS = {
    "[Gmail]/All Mail": "\\All",
    "[Gmail]/Important": "\\Important",
    "[Gmail]/Starred": "\\Flagged",
    "[Gmail]/Sent Mail": "\\Sent",
    "[Gmail]/Drafts": "\\Drafts",
    "[Gmail]/Trash": "\\Trash",
    "[Gmail]/Spam": "\\Junk",
}


@pytest.fixture(scope="session")
def dovecot_exchange(dovecot_root: Path) -> Iterator[DovecotServer]:
    """Folders named and marked as on Exchange / Microsoft 365 ("Sent Items"...)."""
    yield from _serve(DovecotServer(dovecot_root, "exch", special_folders=EXCHANGE_FOLDERS))


@pytest.fixture(scope="session")
def dovecot_gmail(dovecot_root: Path) -> Iterator[DovecotServer]:
    """Gmail's layout: ``[Gmail]/...`` with ``\\All``, ``\\Important``, ``\\Flagged``..."""
    yield from _serve(DovecotServer(dovecot_root, "gmail", special_folders=GMAIL_FOLDERS))


@pytest.fixture(scope="session")
def dovecot_utf8(dovecot_root: Path) -> Iterator[DovecotServer]:
    """A plaintext-only server whose password is not ASCII: LOGIN cannot carry it, so the
    client must use AUTHENTICATE PLAIN."""
    yield from _serve(DovecotServer(dovecot_root, "utf8", tls=False,
                                    password="pé-€-" + secrets.token_hex(6)))


@pytest.fixture(scope="session")
def token_issuer() -> Iterator[TokenIssuer]:
    """The OAuth2 token service of ``dovecot_oauth2``: issues tokens, answers Dovecot."""
    issuer = TokenIssuer()
    issuer.start()
    yield issuer
    issuer.stop()


@pytest.fixture(scope="session")
def dovecot_oauth2(dovecot_root: Path, token_issuer: TokenIssuer) -> Iterator[DovecotServer]:
    """An OAuth2-only server, plaintext: XOAUTH2 and OAUTHBEARER with a token of
    ``token_issuer``, for that token's user; no password login at all."""
    config = oauth2_auth_config(token_issuer, dovecot_root / "oauth2-settings")
    yield from _serve(DovecotServer(dovecot_root, "oauth2", tls=False, auth_config=config))


# --- filled sources: a copy never changes its source, so tests share them -------------


@pytest.fixture(scope="session")
def corpus_source(dovecot_src: DovecotServer) -> tuple[str, Corpus]:
    """(user, corpus) on the '/' server."""
    user = "corpus-slash"
    client = dovecot_src.client(user)
    try:
        return user, fill_source(client, dovecot_src.separator, dovecot_src.prefix)
    finally:
        client.logout()


@pytest.fixture(scope="session")
def corpus_dot_source(dovecot_dot: DovecotServer) -> tuple[str, Corpus]:
    """(user, corpus) on the '.' + 'INBOX.' server."""
    user = "corpus-dot"
    client = dovecot_dot.client(user)
    try:
        return user, fill_source(client, dovecot_dot.separator, dovecot_dot.prefix)
    finally:
        client.logout()
