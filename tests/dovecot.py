"""A throw-away Dovecot IMAP server for the integration tests.

Each :class:`DovecotServer` runs the real ``dovecot`` binary in the foreground, as a child
of the test process, from its own configuration file under ``<root>/<name>/``.  Nothing is
read from or written to ``/etc/dovecot`` and no system service is involved.

What an instance offers:

* ``plain_port``: IMAP with plaintext login allowed and, unless ``tls=False``, STARTTLS;
* ``tls_port``: IMAPS (implicit TLS), only when ``tls=True``;
* any user name logs in with :attr:`DovecotServer.password`, so a fresh user name is a
  fresh, empty mailbox (unless ``auth_config`` signs users in another way, e.g. OAuth2);
* per-user quotas for the names in ``quota_users``.

The certificate is self-signed for ``localhost`` only (no IP address in it), so a client
that verifies against :attr:`ca_file` succeeds with the server name ``localhost`` and fails
with ``127.0.0.1``.

Dovecot will not touch mail as uid 0, so when the tests run as root the mailboxes belong
to ``nobody``, and ``root`` must be a directory every user can traverse (the conftest
makes one with :func:`make_server_root`).  Without root, every process runs as us
(Dovecot's rootless setup: no chroots, our user and group as the internal ones).
"""

from __future__ import annotations

import atexit
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import imapclient

HOST = "127.0.0.1"
"""Every instance listens on this address only."""

CERT_HOSTNAME = "localhost"
"""The only name the test certificate is valid for."""

QUOTA_USER = "quota-small"
QUOTA_RULE = "*:storage=300K"
"""The quota user of the ``dovecot_dst`` fixture, and the rule of every quota user there."""

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
CLIENT_TIMEOUT = 30.0

# Unix socket paths are limited to 108 bytes; the longest name Dovecot puts under base_dir
# ("replication-notify-fifo") is 23 characters.
_MAX_BASE_DIR = 70

_SEARCH_PATH = ("/usr/sbin", "/usr/local/sbin", "/sbin")

_running: set[DovecotServer] = set()


class DovecotError(RuntimeError):
    """The test server could not be configured, started or stopped."""


def find_binary(name: str = "dovecot") -> str | None:
    """Path of a Dovecot program, looking in ``sbin`` directories too (not on a user's PATH)."""
    extra = os.pathsep.join(_SEARCH_PATH)
    return shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + extra)


def make_server_root(prefix: str = "imapcopy-dovecot-") -> Path:
    """Create a short, world-traversable directory to hold test servers.

    Short because Dovecot's unix sockets live under it; traversable because Dovecot's
    unprivileged processes (``dovecot``, ``dovenull``, the mail user) must reach their
    files, which pytest's private ``/tmp/pytest-of-<user>`` does not allow.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def make_certificate(directory: Path, hostname: str = CERT_HOSTNAME) -> tuple[Path, Path]:
    """Make (or reuse) a self-signed certificate for ``hostname``; return (cert, key).

    The subjectAltName carries the DNS name only, on purpose: verifying the address
    ``127.0.0.1`` against it must fail.  An EC key keeps generation instant.
    """
    cert = directory / "cert.pem"
    key = directory / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise DovecotError("the openssl command is needed to make the test certificate")
    cmd = [
        openssl, "req", "-x509", "-nodes", "-days", "30",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", str(key), "-out", str(cert),
        "-subj", f"/CN={hostname}",
        "-addext", f"subjectAltName=DNS:{hostname}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
        "-addext", "extendedKeyUsage=serverAuth",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DovecotError(f"openssl failed: {done.stderr.strip()}")
    key.chmod(0o600)
    cert.chmod(0o644)
    return cert, key


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on :data:`HOST` that nothing listens on right now."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:  # all bound at once, so the kernel cannot repeat a port
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _mail_identity() -> tuple[int, int]:
    """The uid/gid that owns the mailboxes: ours, or ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        entry = pwd.getpwnam("dovecot")
    return entry.pw_uid, entry.pw_gid


def live_group_members(pgid: int) -> list[int]:
    """Pids of the running (not zombie) processes in process group ``pgid``.

    Zombies are left out: where PID 1 does not reap orphans (some containers), a dead
    Dovecot child stays a zombie forever, but it is no longer running.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
            members.append(int(entry.name))
    return members


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _load_libc() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except (OSError, ImportError):
        return None


# Loaded once here: the child must not dlopen between fork and exec.
_LIBC = _load_libc() if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: have Linux SIGTERM Dovecot if the test process dies.

    The atexit hook cannot run after a SIGKILL; this still leaves no orphan master.  (Linux
    ties it to the forking thread, so start servers from the main thread, as fixtures do.)
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DovecotServer:
    """One Dovecot instance with its own config, ports, certificate, mail and logs.

    Use as a context manager or call :meth:`start` / :meth:`stop`.  :meth:`restart` keeps
    the ports and the mail.
    """

    host: str = HOST

    def __init__(
        self,
        root: Path,
        name: str,
        separator: str = "/",
        prefix: str = "",
        quota_users: dict[str, str] | None = None,
        tls: bool = True,
        extra_config: str = "",
        special_folders: dict[str, str] | None = None,
        password: str | None = None,
        auth_config: str | None = None,
    ) -> None:
        if separator not in {"/", "."}:
            raise ValueError(f"unsupported hierarchy separator {separator!r}")
        if prefix and not prefix.endswith(separator):
            raise ValueError(f"namespace prefix {prefix!r} must end with {separator!r}")
        self.root = Path(root)
        self.name = name
        self.separator = separator
        self.prefix = prefix
        self.quota_users = dict(quota_users or {})
        self.tls = tls
        self.extra_config = extra_config  # appended to the generated dovecot.conf
        # Folders every user has from the first login, with their SPECIAL-USE attribute
        # ("Sent Items": "\\Sent"), as providers set them up.
        self.special_folders = dict(special_folders or {})
        # One password for every user (a static passdb); a test may choose it, e.g. non-ASCII.
        self.password = password or "pw-" + secrets.token_hex(8)
        # Instead of the password login above: ``auth_mechanisms`` and the passdb blocks
        # (e.g. an OAuth2 passdb, see tests/oauth2.py).  The userdb stays.
        self.auth_config = auth_config
        self.dir = self.root / name
        self.config_file = self.dir / "dovecot.conf"
        self.log_file = self.dir / "log" / "dovecot.log"
        self.info_log_file = self.dir / "log" / "dovecot-info.log"
        self.stderr_file = self.dir / "log" / "master-stderr.log"
        self.home_root = self.dir / "home"
        self.ca_file, self._key_file = self.root / "tls" / "cert.pem", self.root / "tls" / "key.pem"
        self.plain_port: int = 0
        self.tls_port: int = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._binary = find_binary("dovecot")
        self._uid, self._gid = _mail_identity()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DovecotServer {self.name} {state} imap={self.plain_port} imaps={self.tls_port}>"

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the master process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Write the config and start Dovecot; return once both ports greet.

        The ports are picked on the first start and kept for later ones.
        """
        if self.running:
            return
        if self._binary is None:
            raise DovecotError("the dovecot binary was not found (install dovecot-imapd)")
        if not self.plain_port:
            ports = free_ports(2)
            self.plain_port = ports[0]
            self.tls_port = ports[1] if self.tls else 0
        self._prepare_files()
        # Dovecot answers INTERNALDATE in its own zone: make it the same on every machine.
        env = dict(os.environ, TZ="UTC")
        with open(self.stderr_file, "ab") as err:
            self._proc = subprocess.Popen(
                [self._binary, "-F", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent if _LIBC is not None else None,
            )
        _running.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the master and every child; SIGKILL whatever ignores SIGTERM.

        The whole process group gets SIGTERM at once: the master alone would spend a full
        second shutting its children down, and a child outliving it would be orphaned.
        """
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is None:
            return
        pgid = proc.pid  # start_new_session made the master its group leader
        _signal_group(pgid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while live_group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.02)
        _signal_group(pgid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait(STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while live_group_members(pgid):
            if time.monotonic() > deadline:
                raise DovecotError(f"dovecot {self.name} processes survived SIGKILL")
            time.sleep(0.02)

    def restart(self) -> None:
        """Stop then start again on the same ports, keeping every mailbox.

        Call it from the test's own thread: the parent-death signal that stops a stray
        Dovecot is tied to the *thread* that started it, so a server started from a worker
        thread dies when that thread ends.
        """
        self.stop()
        self.start()

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- helpers for tests ----------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only this server's certificate, hostname checked."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, user: str, tls: bool = False) -> imapclient.IMAPClient:
        """An IMAPClient logged in as ``user``: plain port, or the IMAPS port if ``tls``.

        The TLS connection is made to ``localhost`` so the certificate verifies.
        """
        import imapclient

        if tls:
            if not self.tls:
                raise DovecotError(f"{self.name} was started without TLS")
            conn = imapclient.IMAPClient(
                CERT_HOSTNAME,
                port=self.tls_port,
                ssl=True,
                ssl_context=self.ssl_context(),
                timeout=CLIENT_TIMEOUT,
            )
        else:
            conn = imapclient.IMAPClient(
                self.host, port=self.plain_port, ssl=False, timeout=CLIENT_TIMEOUT
            )
        try:
            if self.password.isascii():
                conn.login(user, self.password)
            else:  # LOGIN carries ASCII only
                conn.plain_login(user, self.password)
        except BaseException:
            conn.shutdown()
            raise
        return conn

    @property
    def pid(self) -> int | None:
        """The master's pid (also its process group id), or None when stopped."""
        return self._proc.pid if self.running and self._proc is not None else None

    def add_quota_user(self, user: str, rule: str) -> None:
        """Give ``user`` a quota (a Dovecot rule such as ``*:storage=300K``), even while running.

        Dovecot re-reads the passwd-file when it changes, so no restart is needed; the rule
        applies from the user's next login.
        """
        if not self.quota_users and self.running:
            raise DovecotError(f"{self.name} was started without the quota plugin")
        self.quota_users[user] = rule
        self._write_quota_users()
        if self.running:
            # Dovecot stats the passwd-file at most once per second (it remembers the second
            # of its last check): a lookup in this same second could still see the old file.
            time.sleep(1.05 - time.time() % 1)

    def reset_user(self, user: str) -> None:
        """Delete every mailbox of ``user`` (log the user out first)."""
        shutil.rmtree(self.home(user), ignore_errors=True)

    def home(self, user: str) -> Path:
        """The user's home directory (it exists once the user has logged in)."""
        return self.home_root / user

    def mailbox_path(self, user: str) -> Path:
        """The directory holding the user's sdbox mailboxes (``mailboxes/<name>/dbox-Mails``)."""
        return self.home(user) / "sdbox"

    def enable_rawlog(self, user: str) -> Path:
        """Make Dovecot record the user's next IMAP sessions; return the directory of logs."""
        path = self.home(user) / "rawlog"
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for part in (self.home(user), path):
                os.chown(part, self._uid, self._gid)
        return path

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm`` against this instance; return its stdout, raise on failure."""
        binary = find_binary("doveadm")
        if binary is None:
            raise DovecotError("the doveadm binary was not found")
        done = subprocess.run(
            [binary, "-c", str(self.config_file), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if done.returncode != 0:
            raise DovecotError(f"doveadm {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the master's stderr and of the Dovecot logs, for error messages."""
        parts = []
        for path in (self.stderr_file, self.log_file, self.info_log_file):
            try:
                text = path.read_text(errors="replace")
            except FileNotFoundError:
                continue
            tail = "\n".join(text.splitlines()[-lines:])
            if tail:
                parts.append(f"--- {path.name} ---\n{tail}")
        return "\n".join(parts) or "(no log output)"

    # --- internals ------------------------------------------------------------------------

    def _prepare_files(self) -> None:
        base_dir = self.dir / "run"
        if len(str(base_dir)) > _MAX_BASE_DIR:
            raise DovecotError(
                f"{base_dir} is too long for Dovecot's unix sockets; use a shorter root "
                "such as make_server_root()"
            )
        for sub in ("", "run", "state", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
            (self.dir / sub).chmod(0o755)
        self.home_root.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(self.home_root, self._uid, self._gid)
        make_certificate(self.ca_file.parent)
        self._write_quota_users()
        self.config_file.write_text(self._render_config())

    def _write_quota_users(self) -> None:
        # passwd-file userdb: user:password:uid:gid:gecos:home:shell:extra fields.
        path = self.dir / "quota-users"
        text = "".join(
            f"{user}::{self._uid}:{self._gid}::{self.home(user)}::userdb_quota_rule={rule}\n"
            for user, rule in sorted(self.quota_users.items())
        )
        # Replace atomically: the auth process may be reading the file right now.
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o644)
        tmp.replace(path)

    def _mailbox_blocks(self) -> str:
        return "".join(
            f'\n  mailbox "{name}" {{\n    auto = subscribe\n    special_use = {use}\n  }}'
            for name, use in self.special_folders.items()
        )

    def _auth_config(self) -> str:
        if self.auth_config is not None:
            return self.auth_config
        # Any user name, one password.  A wrong one is answered after Dovecot's fixed 0.5 s
        # failure timer ("nodelay" would skip it but changes the reply to [CONTACTADMIN]).
        return (
            "auth_mechanisms = plain login\n"
            f"passdb {{\n  driver = static\n  args = password={self.password}\n}}"
        )

    def _render_config(self) -> str:
        as_root = os.geteuid() == 0
        if as_root:
            users = "default_internal_user = dovecot\ndefault_login_user = dovenull"
        else:
            users = (
                f"default_internal_user = {pwd.getpwuid(os.geteuid()).pw_name}\n"
                f"default_internal_group = {grp.getgrgid(os.getegid()).gr_name}\n"
                f"default_login_user = {pwd.getpwuid(os.geteuid()).pw_name}"
            )
        # Chroots need root; without it every service runs as us (Dovecot's rootless setup).
        no_chroot = "" if as_root else "\n  chroot ="
        if self.tls:
            ssl_settings = (
                "ssl = yes\n"
                f"ssl_cert = <{self.ca_file}\n"
                f"ssl_key = <{self._key_file}\n"
                "ssl_min_protocol = TLSv1.2"
            )
            imaps_ssl = "\n    ssl = yes"
        else:
            ssl_settings = "ssl = no"
            imaps_ssl = ""
        if self.quota_users:
            quota_global = "mail_plugins = $mail_plugins quota"
            quota_imap = "\n  mail_plugins = $mail_plugins imap_quota"
            quota_userdb = (
                "userdb {\n"
                "  driver = passwd-file\n"
                f"  args = {self.dir / 'quota-users'}\n"
                "}\n"
            )
            quota_plugin = (
                "plugin {\n"
                "  quota = count:User quota\n"
                "  quota_vsizes = yes\n"
                # Refuse exactly at the limit instead of letting the last mail go 10% over.
                "  quota_grace = 0\n"
                "}\n"
            )
        else:
            quota_global = quota_imap = quota_userdb = quota_plugin = ""
        return f"""\
# Written by tests/dovecot.py for one throw-away test instance.
instance_name = imapcopy-test-{self.name}-{self.plain_port}
base_dir = {self.dir / "run"}
state_dir = {self.dir / "state"}
log_path = {self.log_file}
info_log_path = {self.info_log_file}
debug_log_path = {self.info_log_file}
protocols = imap
listen = {HOST}
shutdown_clients = yes

{users}
# Our own (possibly low) uid owns the mail when not root; uid 0 never does.
first_valid_uid = 1
first_valid_gid = 0

disable_plaintext_auth = no
# Tests log in with wrong passwords on purpose: no 2 s delay on top of the 0.5 s flush.
auth_failure_delay = 0
mail_max_userip_connections = 100

{ssl_settings}

mail_location = sdbox:~/sdbox
mail_fsync = never
{quota_global}
namespace inbox {{
  inbox = yes
  separator = {self.separator}
  prefix = {self.prefix}{self._mailbox_blocks()}
}}

{self._auth_config()}
{quota_userdb}userdb {{
  driver = static
  args = uid={self._uid} gid={self._gid} home={self.home_root}/%u allow_all_users=yes
}}

service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.plain_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.tls_port}{imaps_ssl}
  }}{no_chroot}
}}
service anvil {{
  # No growing delay after failed logins: every test client is 127.0.0.1.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}{no_chroot}
}}
protocol imap {{
  # Rawlogs are written only for users whose directory exists (enable_rawlog).
  rawlog_dir = %h/rawlog{quota_imap}
}}
{quota_plugin}{self.extra_config}"""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        pending = {"imap": self.plain_port}
        if self.tls:
            pending["imaps"] = self.tls_port
        last_error = ""
        while pending:
            if self._proc is not None and self._proc.poll() is not None:
                raise DovecotError(
                    f"dovecot {self.name} exited with status {self._proc.returncode} "
                    f"while starting\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise DovecotError(
                    f"dovecot {self.name} did not answer on {sorted(pending)} within "
                    f"{START_TIMEOUT:.0f} s ({last_error})\n{self.log_tail()}"
                )
            for kind, port in list(pending.items()):
                try:
                    greeting = self._greeting(port, tls=kind == "imaps")
                except OSError as exc:
                    last_error = f"{kind}: {exc}"
                    continue
                if not greeting.startswith(b"* OK"):
                    raise DovecotError(f"unexpected greeting on {kind}: {greeting!r}")
                del pending[kind]
            if pending:
                time.sleep(0.05)

    def _greeting(self, port: int, tls: bool) -> bytes:
        with socket.create_connection((self.host, port), timeout=2) as raw:
            if tls:
                with self.ssl_context().wrap_socket(raw, server_hostname=CERT_HOSTNAME) as sock:
                    return sock.recv(1024)
            return raw.recv(1024)


@atexit.register
def _stop_all() -> None:
    """Safety net: no Dovecot outlives the test session, even if a fixture forgot."""
    for server in list(_running):
        server.stop()
