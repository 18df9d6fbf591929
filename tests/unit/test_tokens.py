"""OAuth2 access tokens from a file or a command: what is taken as the token, and the one
line said when there is none (naming the account and the file or command, never a token)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from imapcopy_tui.engine.account import Account, AuthMethod
from imapcopy_tui.engine.interrupt import Interrupter
from imapcopy_tui.engine.tokens import fetch_token
from imapcopy_tui.errors import ConnectionInterrupted, TokenError, UsageError

TOKEN = "ya29.a0AfH6SM-tok_en/x+y=="
WHERE = "source account alice@example.org on imap.example.org:993"


def by_file(path: Path) -> Account:
    return Account("imap.example.org", "alice@example.org", "", auth=AuthMethod.OAUTH2,
                   token_file=str(path))


def by_command(command: str) -> Account:
    return Account("imap.example.org", "alice@example.org", "", auth=AuthMethod.XOAUTH2,
                   token_command=command)


def refusal(account: Account) -> str:
    with pytest.raises(TokenError) as caught:
        fetch_token(account, timeout=1)
    return str(caught.value)


def test_file_first_non_empty_line_read_again_each_time(tmp_path: Path) -> None:
    """The first non-empty line, trimmed (a "Bearer " prefix too); the file is read at
    each fetch, so a refresher that rewrites it hands over the new token."""
    path = tmp_path / "token"
    path.write_text(f"\n  {TOKEN}  \r\nsecond line\n")
    assert fetch_token(by_file(path)) == TOKEN
    path.write_text("Bearer new-token\n")
    assert fetch_token(by_file(path)) == "new-token"


def test_command_runs_in_a_shell_each_time_without_our_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command goes through /bin/sh (a pipe works), runs at every fetch, and does not
    see IMAPCOPY_PASSWORD1/2 (other variables it does)."""
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw-one")
    monkeypatch.setenv("IMAPCOPY_PASSWORD2", "pw-two")
    monkeypatch.setenv("TOKEN_PREFIX", "tok")
    runs = tmp_path / "runs"
    command = (f"echo run >> {runs}; printf '\\n%s-%s-%s\\n' \"$TOKEN_PREFIX\" "
               '"${IMAPCOPY_PASSWORD1:-none}" "${IMAPCOPY_PASSWORD2:-none}" | tr a-z A-Z')
    assert fetch_token(by_command(command)) == "TOK-NONE-NONE"
    assert fetch_token(by_command(command)) == "TOK-NONE-NONE"
    assert runs.read_text() == "run\nrun\n"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, (f"{WHERE}: cannot read the token file {{path}} (No such file or "
                "directory); write the access token on its first line")),
        ("\n \n", (f"{WHERE}: the token file {{path}} is empty; it must give the access "
                  "token on its first line")),
        (f'{{"access_token":"{TOKEN}","expires_in":3599}}',
         (f"{WHERE}: the token file {{path}} gave JSON, not a bare access token; take the "
          "token out of it, e.g. with: | jq -r .access_token")),
        (f"token: {TOKEN}\n",
         (f"{WHERE}: the token file {{path}} gave a first line that is not an access token "
          "(it has spaces, control or non-ASCII characters); it must give the bare token")),
    ],
    ids=["missing", "empty", "json", "not-a-token"],
)
def test_file_without_a_token(tmp_path: Path, content: str | None, said: str) -> None:
    """One line naming the account and the file and saying what to write; no token."""
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    message = refusal(by_file(path))
    assert message == said.format(path=path)
    assert TOKEN not in message


def test_failed_command_shows_its_status_and_the_start_of_its_first_error_line() -> None:
    """Exit status and at most 80 characters of the first stderr line: not the rest, which
    may quote anything, and never what it printed on stdout."""
    long_line = "error: " + "x" * 200
    command = f"echo {TOKEN}; echo {long_line} >&2; echo second {TOKEN} >&2; exit 3"
    message = refusal(by_command(command))
    assert message.startswith(f"{WHERE}: the token command 'echo {TOKEN}; echo ")
    assert message.endswith(f"failed (exit status 3: {long_line[:79]}…)")
    assert "second" not in message
    assert message.count(TOKEN) == 1  # only inside the command's own text, shortened
    assert refusal(by_command("true")) == (
        f"{WHERE}: the token command 'true' printed nothing; it must give the access token "
        "on its first line")


def test_command_that_hangs_is_killed_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that waits (for a browser, a prompt) is stopped after the timeout, its
    background children too, and said to have to print the token without asking."""
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    command = 'sleep 30 & echo $! > "$PID_FILE"; wait'
    started = time.monotonic()
    message = refusal(by_command(command))
    assert time.monotonic() - started < 8
    assert message == (f"{WHERE}: the token command {command!r} did not finish within 1 s; it "
                       "must print the token without asking anything (it has no terminal)")
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _running(child)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_a_stop_kills_a_token_command_still_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the job stops, a token command still running (up to a minute) is killed with
    its children at once, and the fetch ends as a stop, not as a token error."""
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    interrupter = Interrupter()
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            fetch_token(by_command('sleep 30 & echo $! > "$PID_FILE"; wait'), timeout=60,
                        interrupter=interrupter)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            errors.append(exc)

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the token command did not start"
        time.sleep(0.02)
    started = time.monotonic()
    interrupter.trip()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 2
    assert len(errors) == 1 and isinstance(errors[0], ConnectionInterrupted), errors
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _running(child)
    with pytest.raises(ConnectionInterrupted):  # after the stop, no command is run at all
        fetch_token(by_command(f"echo run > {tmp_path / 'ran'}; echo tok"),
                    interrupter=interrupter)
    time.sleep(0.2)
    assert not (tmp_path / "ran").exists()


def test_long_command_is_shortened_in_messages() -> None:
    """A command is quoted up to 60 characters: enough to recognise it, on one line."""
    command = "oauth2l fetch --credentials ~/client.json --scope https://mail.google.com/ --x"
    message = refusal(by_command(command))
    assert f"the token command {command[:59] + '…'!r} failed (exit status 127: " in message


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"auth": AuthMethod.OAUTH2},
         ("the source account signs in with OAuth2: give a token file or a token command "
          "that prints an access token")),
        ({"auth": AuthMethod.OAUTHBEARER, "token_file": "/t", "token_command": "cat /t"},
         ("the source account signs in with OAuth2: give either a token file or a token "
          "command, not both")),
        ({"token_file": "/t"},
         ("the source account signs in with a password: a token file or command is for "
          "OAuth2 sign-in only")),
        ({"auth": AuthMethod.XOAUTH2, "token_command": "  "},
         "the source token command is empty"),
    ],
    ids=["no-source", "two-sources", "password-with-source", "blank"],
)
def test_account_needs_exactly_one_token_source_with_oauth2(
    changes: dict[str, object], said: str
) -> None:
    with pytest.raises(UsageError) as caught:
        Account("imap.example.org", "alice", "", **changes)  # type: ignore[arg-type]
    assert str(caught.value) == said


def test_token_source_is_not_a_secret_the_password_is() -> None:
    """The token file or command shows in repr (it is what to fix when it fails); the
    password never does."""
    assert "pw-secret" not in repr(Account("h.example", "alice", "pw-secret"))
    assert "cat /t" in repr(by_command("cat /t"))
