"""A stand-in OAuth2 authorisation server for Dovecot's ``oauth2`` passdb.

Dovecot checks each access token by POSTing it to an introspection URL (RFC 7662):
:class:`TokenIssuer` serves that URL on a loopback port, from a thread of the test
process.  It answers ``{"active": true, "username": USER}`` for the tokens it issued and
has not revoked, ``{"active": false}`` for anything else, and records every token it was
asked about, so a test can tell which token a login carried.

:func:`oauth2_auth_config` is the Dovecot side: ``auth_mechanisms`` and a passdb that
accept XOAUTH2 and OAUTHBEARER only (no password login), for
:class:`tests.dovecot.DovecotServer`'s ``auth_config``.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from tests.dovecot import HOST


class TokenIssuer:
    """Issues opaque access tokens and answers Dovecot's introspection requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, str] = {}  # token -> user
        self.asked: list[str] = []  # every token Dovecot asked about, in order
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name is http.server's
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("ascii", "replace"))
                token = (form.get("token") or [""])[0]
                body = json.dumps(issuer._introspect(token)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the tests look at ``asked``

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        # accept() may block although the socket polled ready (a connection reset before it
        # was accepted): with a timeout it gives up, and shutdown() is never stuck behind it.
        self._server.socket.settimeout(1.0)
        self.port = self._server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/introspect"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="token-issuer", daemon=True
        )

    def _introspect(self, token: str) -> dict[str, object]:
        with self._lock:
            self.asked.append(token)
            user = self._active.get(token)
        return {"active": True, "username": user} if user else {"active": False}

    def issue(self, user: str) -> str:
        """A new access token for ``user``, valid until revoked."""
        token = "at-" + secrets.token_urlsafe(24)
        with self._lock:
            self._active[token] = user
        return token

    def revoke(self, token: str) -> None:
        """The token expires: from now on it is answered ``{"active": false}``."""
        with self._lock:
            self._active.pop(token, None)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def oauth2_auth_config(issuer: TokenIssuer, directory: Path) -> str:
    """Dovecot settings for an OAuth2-only server checking tokens with ``issuer``."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = directory / "dovecot-oauth2.conf.ext"
    settings.write_text(
        "introspection_mode = post\n"
        f"introspection_url = {issuer.url}\n"
        "username_attribute = username\n"
        "active_attribute = active\n"
        "active_value = true\n"
        "force_introspection = yes\n"
    )
    settings.chmod(0o644)
    return (
        "auth_mechanisms = xoauth2 oauthbearer\n"
        "passdb {\n"
        "  driver = oauth2\n"
        "  mechanisms = xoauth2 oauthbearer\n"
        f"  args = {settings}\n"
        "}"
    )
