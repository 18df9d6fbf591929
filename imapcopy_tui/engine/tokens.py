"""OAuth2 access tokens: read from the user's file, or printed by the user's command.

A token is fetched for every connection (and once more when the server refuses it), never
kept: access tokens expire after about an hour, and a long copy reconnects.  A file is
read again, so a token refresher writing it keeps the copy going; a command is run again,
so a command that refreshes (``oauth2l fetch``, a small script) hands over a fresh one.

The command is the user's own, run with ``/bin/sh -c`` (a pipe into ``jq`` is fine), in
a session of its own (no terminal, nothing to read on stdin), with our password variables
removed from its environment, and killed with its children after :data:`COMMAND_TIMEOUT`
(or at once when the job stops).
The first non-empty line of its output is the token.

Every problem is a :class:`~imapcopy_tui.errors.TokenError` naming the account and the
file or command.  It never quotes a token, nor more of what the command said on stderr
than the start of its first line.
"""

from __future__ import annotations

import os
import signal
import subprocess

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.interrupt import STOPPED, Interrupter
from imapcopy_tui.errors import ConnectionInterrupted, TokenError

COMMAND_TIMEOUT = 60.0
PASSWORD_VARIABLES = ("IMAPCOPY_PASSWORD1", "IMAPCOPY_PASSWORD2")
"""The environment variables holding passwords: never passed on to a child process."""

_SHOWN_STDERR = 80  # characters of a failed command's first stderr line quoted
_MAX_FILE = 64 * 1024  # a token is a few kilobytes at most


def fetch_token(
    account: Account,
    *,
    timeout: float = COMMAND_TIMEOUT,
    interrupter: Interrupter | None = None,
) -> str:
    """The access token of ``account`` (an OAuth2 account), fetched now.

    With ``interrupter``, a job's stop kills a token command still running (it could take
    up to :data:`COMMAND_TIMEOUT`), and ``ConnectionInterrupted`` is raised; after the
    stop, no command is started.
    """
    if interrupter is not None and interrupter.tripped:
        raise ConnectionInterrupted(STOPPED)
    if account.token_file:
        text = _read_file(account, account.token_file)
    elif account.token_command:
        text = _run_command(account, account.token_command, timeout, interrupter)
    else:
        raise TokenError(f"{account.describe()}: no token file or token command is given")
    return _first_token(account, text)


def child_environment() -> dict[str, str]:
    """Our environment without the password variables: for every process we start."""
    return {k: v for k, v in os.environ.items() if k not in PASSWORD_VARIABLES}


def _read_file(account: Account, path: str) -> str:
    try:
        with open(os.path.expanduser(path), "rb") as handle:
            data = handle.read(_MAX_FILE)
    except OSError as exc:
        raise TokenError(
            f"{account.describe()}: cannot read {account.token_source()} "
            f"({exc.strerror or type(exc).__name__}); write the access token on its first line"
        ) from None
    return data.decode("utf-8", "replace")


class _RunningCommand:
    """A token command as the interrupter sees it: cut means killed, with its children."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self.interrupted = False

    @property
    def closed(self) -> bool:
        return self._process.returncode is not None

    def interrupt(self) -> None:
        self.interrupted = True
        if self._process.returncode is None:  # not reaped: its pid is still its own
            _signal_group(self._process)


def _run_command(
    account: Account, command: str, timeout: float, interrupter: Interrupter | None
) -> str:
    where = f"{account.describe()}: {account.token_source()}"
    try:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_environment(),
            start_new_session=True,  # no terminal; killed as a group with its children
            close_fds=True,
        )
    except OSError as exc:
        raise TokenError(f"{where} cannot be started ({exc.strerror or exc})") from None
    running = _RunningCommand(process)
    if interrupter is not None:
        interrupter.watch(running)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TokenError(
            f"{where} did not finish within {timeout:.0f} s; it must print the token "
            "without asking anything (it has no terminal)"
        ) from None
    finally:
        if process.poll() is None:  # timed out, or we are interrupted: leave nothing behind
            _kill_group(process)
    if running.interrupted:
        raise ConnectionInterrupted(STOPPED)
    if process.returncode != 0:
        said = _first_line(err.decode("utf-8", "replace"))
        if len(said) > _SHOWN_STDERR:
            said = said[: _SHOWN_STDERR - 1] + "…"
        status = (f"signal {-process.returncode}" if process.returncode < 0
                  else f"exit status {process.returncode}")
        raise TokenError(f"{where} failed ({status}{': ' + said if said else ''})")
    return out.decode("utf-8", "replace")


def _signal_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    _signal_group(process)
    try:
        process.communicate(timeout=5)  # reap it; the pipes close once the group is gone
    except subprocess.TimeoutExpired:
        pass  # a child that left the group still holds a pipe: give up on it


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _first_token(account: Account, text: str) -> str:
    """The first non-empty line, checked to look like a bearer token (RFC 6750)."""
    where = f"{account.describe()}: {account.token_source()}"
    line = _first_line(text)
    if line[:7].lower() == "bearer ":
        line = line[7:].strip()
    if not line:
        verb = "is empty" if account.token_file else "printed nothing"
        raise TokenError(f"{where} {verb}; it must give the access token on its first line")
    if line.startswith("{"):
        raise TokenError(
            f"{where} gave JSON, not a bare access token; take the token out of it, "
            "e.g. with: | jq -r .access_token"
        )
    if not (line.isascii() and line.isprintable()) or " " in line:
        # Not quoted: it may be a token with a stray character, or anything at all.
        raise TokenError(
            f"{where} gave a first line that is not an access token (it has spaces, "
            "control or non-ASCII characters); it must give the bare token"
        )
    return line
