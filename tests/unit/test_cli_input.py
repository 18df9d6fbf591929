"""The command line with odd input: one line on stderr, in the user's terms, and the exit
code (2 for usage and configuration), never a traceback.  Run in-process: every case is
refused before anything connects."""

from __future__ import annotations

import pytest

from imapcopy_tui.cli import ExitCode, main

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
