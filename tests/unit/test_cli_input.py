"""The command line with odd input: one line on stderr, in the user's terms, and the exit
code (2 for usage and configuration), never a traceback.  Run in-process: every case is
refused before anything connects, except the hostile server, which is a local socket."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imapcopy_tui.cli import ExitCode, main, one_line
from imapcopy_tui.engine.answers import server_words

PORT_HINT = "IMAP is usually on 993 (TLS) or 143 (STARTTLS)"
SPACES = "contains spaces; type the bare name, e.g. imap.example.org"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    """Exit code and the lines written on stderr."""
    code = main(["test", *argv])
    return code, capsys.readouterr().err.splitlines()


@pytest.fixture(autouse=True)
def passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw")
    monkeypatch.setenv("IMAPCOPY_PASSWORD2", "pw")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--port1", "0"], f"the source port 0 is not between 1 and 65535; {PORT_HINT}"),
        (["--port1", "70000"], f"the source port 70000 is not between 1 and 65535; {PORT_HINT}"),
        (["--port1", "-1"], f"the source port -1 is not between 1 and 65535; {PORT_HINT}"),
        (["--port1", "abc"], f"the source port 'abc' is not a number; {PORT_HINT}"),
        (["--host2", "imap.example.net", "--user2", "bob", "--port2", "99x"],
         f"the destination port '99x' is not a number; {PORT_HINT}"),
    ],
    ids=["zero", "70000", "negative", "word", "destination"],
)
def test_bad_port(capsys: pytest.CaptureFixture[str], argv: list[str], line: str) -> None:
    """Port 0 is refused (it used to mean "the default"), and so are the others."""
    code, err = run(capsys, "--host1", "imap.example.org", "--user1", "alice", *argv)
    assert (code, err) == (ExitCode.USAGE, [f"imapcopy: error: {line}"])


@pytest.mark.parametrize(
    ("host", "line"),
    [
        ("", "the source server is missing: give --host1 or --preset1"),
        ("  ", "the source server is missing: give --host1 or --preset1"),
        ("imap example.org", f"the source server name 'imap example.org' {SPACES}"),
        ("imap.example.org:993", (
            "the source server name 'imap.example.org:993' includes a port; give the server "
            "name and the port separately"
        )),
        ("imap\nexample.org", rf"the source server name 'imap\nexample.org' {SPACES}"),
        ("a" * 64 + ".org", (
            f"the source server name '{'a' * 64}.org' is not a valid server name (a part "
            "between dots is empty or longer than 63 characters)"
        )),
    ],
    ids=["empty", "blank", "spaces", "with-port", "newline", "long-label"],
)
def test_bad_host(capsys: pytest.CaptureFixture[str], host: str, line: str) -> None:
    """Empty, blank, spaced, with a port, multi-line, unresolvable by construction."""
    code, err = run(capsys, "--host1", host, "--user1", "alice")
    assert (code, err) == (ExitCode.USAGE, [f"imapcopy: error: {line}"])


# --- the user's presets file ------------------------------------------------------------


@pytest.fixture
def user_presets() -> Path:
    """Where the command line looks for the user's presets (XDG dir of this test)."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "imapcopy" / "presets.toml"
    path.parent.mkdir(parents=True)
    return path


MINE = '[mine]\nname = "Mine"\nhost = "imap.mine.example"\nport = 993\nsecurity = "tls"\n'


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[mine]\nname = 'Mine'\nhost = imap.mine.example\n",
         "line 3: TOML syntax error: Invalid value"),
        (MINE.replace("port = 993", 'port = "993"'),
         'line 4: [mine] "port" must be an integer, not "993"'),
        (MINE + "prot = 993\n", (
            'line 6: [mine] unknown key "prot" (did you mean "port"? expected one of: auth, '
            "host, max_connections, max_message_mb, name, needs, note, port, roles, security, "
            "source_url, verified)"
        )),
        (MINE.replace('security = "tls"\n', ""), 'line 1: [mine] missing required key "security"'),
        (MINE.replace('"imap.mine.example"', '"imap.mine.example\\n[evil]"'),
         r'line 3: [mine] "host" must not contain spaces: "imap.mine.example\n[evil]"'),
    ],
    ids=["syntax", "type", "unknown-key", "missing-key", "newline-in-value"],
)
def test_broken_presets_file(
    capsys: pytest.CaptureFixture[str], user_presets: Path, text: str, where: str
) -> None:
    """--preset with a broken presets file: file, line, preset and key on one line, exit 2;
    a shipped preset is refused too (the user's file may redefine it)."""
    user_presets.write_text(text)
    for preset in ("mine", "gmail"):
        code, err = run(capsys, "--preset1", preset, "--user1", "alice")
        assert (code, err) == (ExitCode.USAGE, [f"imapcopy: error: {user_presets}, {where}"])


# --- a hostile server -------------------------------------------------------------------


def refusing_server(greeting: bytes, refusal: bytes) -> Iterator[int]:
    """A one-connection "IMAP server": it sends ``greeting``, answers CAPABILITY, and
    refuses every other command with the words ``refusal``; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn, conn.makefile("rb") as lines:
            conn.sendall(greeting)
            for line in lines:
                tag, command = line.split()[:2]
                if command.upper() == b"CAPABILITY":
                    conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
                else:
                    conn.sendall(tag + b" NO " + refusal + b"\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(5)


@pytest.fixture
def hostile_server() -> Iterator[int]:
    """An "IMAP server" whose login refusal carries terminal escape codes."""
    yield from refusing_server(b"* OK ready\r\n", b"\x1b]0;owned\x07\x1b[2Jgo away")


def test_server_words_cannot_drive_the_terminal(
    capsys: pytest.CaptureFixture[str], hostile_server: int
) -> None:
    """Control characters in what a server says are shown escaped, on the one line
    (whichever layer escapes them: the session quotes a refused login's words as bytes;
    other server words reach the command line decoded, where one_line escapes them)."""
    code, err = run(capsys, "--host1", "127.0.0.1", "--port1", str(hostile_server),
                    "--plain1", "--user1", "alice")
    assert code == ExitCode.AUTH
    assert err == [(
        f"imapcopy: error: source account alice on 127.0.0.1:{hostile_server}: the server "
        r"refused the login or password (\x1b]0;owned\x07\x1b[2Jgo away); check them, or "
        "use an app password if the provider requires one"
    )]


@pytest.fixture
def long_winded_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """Greets with ``request.param[0]``, refuses logins with the words ``request.param[1]``."""
    yield from refusing_server(*request.param)


@pytest.mark.parametrize(
    ("long_winded_server", "code", "words"),
    [
        ((b"\x00\xff\xfe" * 1000 + b"\r\n", b""), ExitCode.CONNECTION,
         "answered without an IMAP greeting ("),
        ((b"* OK ready\r\n", b"x" * 3000), ExitCode.AUTH,
         "refused the login or password (" + "x" * 299 + "…); check them"),
    ],
    ids=["binary-greeting", "long-refusal"],
    indirect=["long_winded_server"],
)
def test_a_servers_long_words_are_cut_to_keep_one_readable_line(
    capsys: pytest.CaptureFixture[str], long_winded_server: int, code: ExitCode, words: str
) -> None:
    """3000 bytes of binary for a greeting, 3000 characters of refusal: the one line
    quotes at most 300 characters of them (it was 12 KB)."""
    exit_code, err = run(capsys, "--host1", "127.0.0.1", "--port1", str(long_winded_server),
                         "--plain1", "--user1", "alice")
    assert exit_code == code, err
    assert len(err) == 1 and words in err[0], err
    assert len(err[0]) < 1400  # 300 characters, each at worst escaped as \\xff


def test_one_line_escapes_breaks_and_control_codes() -> None:
    """What goes to stderr as an error is one line with no terminal control codes; other
    text is untouched."""
    assert one_line("Boîte [1]\n\x1b[2J\x1b]0;owned\x07\r\tend\u200b\udcff") == (
        r"Boîte [1]\n\x1b[2J\x1b]0;owned\x07\r\tend\u200b\udcff"
    )


# --- values that used to end in "internal error" -----------------------------------------

SYNC = ["sync", "--host1", "imap.example.org", "--user1", "alice",
        "--host2", "imap.example.net", "--user2", "bob"]


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "sixty", "90000"])
def test_timeout_must_be_a_number_of_seconds(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """A negative, zero, infinite or not-a-number read timeout is refused before anything
    connects (it used to fail inside the socket layer as an internal error)."""
    code = main([*SYNC, "--timeout", value])
    assert (code, capsys.readouterr().err.splitlines()) == (ExitCode.USAGE, [
        f"imapcopy: error: argument --timeout: {value!r} is not a number of seconds above 0 "
        "and at most 86400, like 60"
    ])


def test_a_password_file_that_is_not_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    passfile = tmp_path / "pw"
    passfile.write_bytes(b"pw\xff\xfe\n")
    code, err = run(capsys, "--host1", "imap.example.org", "--user1", "alice",
                    "--passfile1", str(passfile))
    assert (code, err) == (ExitCode.USAGE, [
        f"imapcopy: error: the source password file {passfile} is not UTF-8 text; write the "
        "password in it as UTF-8"
    ])


@pytest.mark.parametrize("typed", ["", EOFError], ids=["empty", "ctrl-d"])
def test_nothing_typed_at_the_password_prompt(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    typed: str | type[EOFError],
) -> None:
    """At a terminal, Enter alone or Ctrl+D at the prompt: one line saying so."""
    monkeypatch.delenv("IMAPCOPY_PASSWORD1")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)

    def prompt(text: str) -> str:
        assert text == "Password of the source account alice: "
        if isinstance(typed, str):
            return typed
        raise typed()

    monkeypatch.setattr("getpass.getpass", prompt)
    code, err = run(capsys, "--host1", "imap.example.org", "--user1", "alice")
    assert (code, err) == (ExitCode.USAGE, [
        "imapcopy: error: no password was typed for the source account alice; type it at the "
        "prompt, or give --passfile1 or IMAPCOPY_PASSWORD1"
    ])


def test_a_login_longer_than_any_address(capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before connecting: a server would answer it as a wrong password."""
    code, err = run(capsys, "--host1", "imap.example.org", "--user1", "a" * 400)
    assert (code, err) == (ExitCode.USAGE, [
        "imapcopy: error: the source login is 400 characters long; a login is an address or "
        "a user name (at most 320 characters)"
    ])


def test_a_secret_the_server_quotes_is_hidden_before_its_words_are_cut() -> None:
    """A 1.5 KB token (or a password) quoted in a refusal: hidden whole, then the words
    cut to 300 characters; cutting first left its first 280 characters to be shown."""
    token = "ya29." + "".join(f"{n:04x}" for n in range(375))
    words = server_words(Exception("AUTHENTICATE failed: invalid token " + token),
                         hide=token)
    assert words == "invalid token [hidden]"
    long = server_words(Exception("AUTHENTICATE failed: " + "x" * 400 + token), hide=token)
    assert token[:20] not in long and len(long) == 300


@pytest.mark.parametrize(
    "long_winded_server", [(b"* OK ready\r\n", b"wrong password s3cret-pw-123 for alice")],
    indirect=True,
)
def test_a_password_quoted_in_a_login_refusal_is_not_shown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    long_winded_server: int,
) -> None:
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "s3cret-pw-123")
    code, err = run(capsys, "--host1", "127.0.0.1", "--port1", str(long_winded_server),
                    "--plain1", "--user1", "alice")
    assert code == ExitCode.AUTH
    assert "s3cret" not in err[0] and "(wrong password [hidden] for alice)" in err[0], err


def test_a_sync_run_in_process_gives_sigterm_back(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The sync takes SIGTERM as Ctrl+C while it runs, then restores what was there: a
    caller such as a test runner keeps its own handling."""
    monkeypatch.setenv("IMAPCOPY_DB", str(tmp_path / "jobs.sqlite3"))
    seen: list[object] = []

    def fake_run_job(*_args: object, **_kwargs: object) -> object:
        seen.append(signal.getsignal(signal.SIGTERM))
        raise KeyboardInterrupt

    monkeypatch.setattr("imapcopy_tui.runner.run_job", fake_run_job)
    before = signal.getsignal(signal.SIGTERM)
    code = main(["sync", "--host1", "imap.example.org", "--user1", "alice",
                 "--host2", "imap.example.net", "--user2", "bob"])
    assert code == ExitCode.INTERRUPTED
    assert seen == [signal.default_int_handler]
    assert signal.getsignal(signal.SIGTERM) is before
    assert "interrupted; job 1 stopped" in capsys.readouterr().err


@pytest.mark.parametrize("job", [True, False], ids=["sync", "dry-run"])
def test_the_summary_repeats_ten_errors_and_counts_the_rest(
    capsys: pytest.CaptureFixture[str], job: bool
) -> None:
    """A dry run has no job to look up: its count line points nowhere else."""
    from imapcopy_tui.cli import _print_errors
    from imapcopy_tui.engine.progress import CopyIssue

    _print_errors([CopyIssue(f"refused {n}", folder="INBOX", uid=n) for n in range(1, 13)],
                  "alice@example.org" if job else None)
    lines = capsys.readouterr().err.splitlines()
    assert lines[:10] == [f"  error: {CopyIssue(f'refused {n}', 'INBOX', n)}" for n in range(1, 11)]
    assert lines[10:] == ["  ... and 2 more errors, printed above"
                          + ("; imapcopy status alice@example.org lists them all" if job else "")]
