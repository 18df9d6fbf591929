"""Server names and ports, checked once (engine.account) for the command line and the app:
odd input is a one-line ``UsageError`` naming the side, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imapcopy_tui.cli import account_from_args, build_parser
from imapcopy_tui.engine.account import (
    MAX_PORT,
    Account,
    bare_host,
    check_host,
    check_port,
    host_problem,
)
from imapcopy_tui.errors import UsageError
from imapcopy_tui.tui.screens.settings import check_fields

PARSER = build_parser()
PORT_HINT = "IMAP is usually on 993 (TLS) or 143 (STARTTLS)"
NOT_A_NAME = (
    "is not a valid server name (a part between dots is empty or longer than 63 characters)"
)


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("0", f"the source port 0 is not between 1 and 65535; {PORT_HINT}"),
        ("70000", f"the source port 70000 is not between 1 and 65535; {PORT_HINT}"),
        ("-1", f"the source port -1 is not between 1 and 65535; {PORT_HINT}"),
        ("9" * 5000, f"the source port {'9' * 5000} is not between 1 and 65535; {PORT_HINT}"),
        ("abc", f"the source port 'abc' is not a number; {PORT_HINT}"),
        ("993.0", f"the source port '993.0' is not a number; {PORT_HINT}"),
        ("\u00b2", f"the source port '\u00b2' is not a number; {PORT_HINT}"),  # "²".isdigit()
        ("\u0663", f"the source port '\u0663' is not a number; {PORT_HINT}"),  # Arabic 3
    ],
)
def test_bad_port_is_refused_in_words(port: str, message: str) -> None:
    """Zero, out of range, negative, huge, words and non-ASCII digits: the side, the value
    and the usual ports."""
    with pytest.raises(UsageError) as caught:
        check_port(port, "source")
    assert str(caught.value) == message


@pytest.mark.parametrize(("port", "value"), [("1", 1), (" 993 ", 993), ("0143", 143),
                                             ("+993", 993), (str(MAX_PORT), MAX_PORT)])
def test_good_ports_are_read(port: str, value: int) -> None:
    """Spaces around, leading zeros and the bounds are fine."""
    assert check_port(port, "source") == value


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("imap example.org", "contains spaces; type the bare name, e.g. imap.example.org"),
        ("imap.\texample.org", "contains spaces; type the bare name, e.g. imap.example.org"),
        ("imap\x00.example.org",
         "contains control or invisible characters; type it again by hand"),
        ("imap\u200b.example.org",
         "contains control or invisible characters; type it again by hand"),
        ("imaps://imap.example.org",
         "is not a bare server name; type only the name, e.g. imap.example.org"),
        ("imap.example.org:993",
         "includes a port; give the server name and the port separately"),
        ("imap..example.org", NOT_A_NAME),
        ("a" * 64 + ".example.org", NOT_A_NAME),
        (".".join(["a" * 60] * 5), "is too long for a server name (at most 253 characters)"),
    ],
)
def test_bad_host_is_refused_in_words(host: str, problem: str) -> None:
    """Each kind of unusable server name has its own words, quoting what was typed."""
    with pytest.raises(UsageError) as caught:
        check_host(host, "destination")
    assert str(caught.value) == f"the destination server name {host!r} {problem}"


@pytest.mark.parametrize(
    ("host", "value"),
    [(" imap.example.org ", "imap.example.org"), ("[::1]", "::1"), ("::1", "::1"),
     ("imap.münchen.de", "imap.münchen.de"), ("imap.example.org.", "imap.example.org."),
     ("fe80::1%eth0", "fe80::1%eth0")],
)
def test_good_hosts_are_kept(host: str, value: str) -> None:
    """Trimmed; IPv6 literals with or without brackets; international names; a final dot."""
    assert check_host(host, "source") == value


def test_an_account_cannot_hold_an_unusable_host_or_port() -> None:
    """Built directly (the job runner does), an Account refuses what the forms refuse:
    the socket layer would fail with a codec error, or silently pick a port."""
    with pytest.raises(UsageError, match=r"^the destination server name 'a\.\.b' is not a"):
        Account(host="a..b", login="a", password="p", role="destination")
    with pytest.raises(UsageError, match=r"^the source port 0 is not between 1 and 65535$"):
        Account(host="imap.example.org", login="a", password="p", port=0)


# --- any input: an Account or a UsageError ----------------------------------------------

HOSTS = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"\A[a-z0-9.:\-\[\]]{1,80}\Z"),
    st.lists(st.text("ab-é", min_size=0, max_size=70), min_size=1, max_size=6).map(".".join),
)
PORTS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.text(max_size=8),
    st.sampled_from(["", " ", "0", "65535", "65536", "+1", "0993", "\u00b2", "9" * 5000]),
)


@pytest.fixture
def password_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A password for the source, so that account_from_args never prompts."""
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw")


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=HOSTS, port=PORTS)
@example(host="a" * 300, port="993")
@example(host="\udcff", port="993")  # undecodable bytes in argv arrive as surrogates
@example(host="imap.example.org", port="-1")
def test_command_line_gives_an_account_or_a_usage_error(
    password_in_env: None, host: str, port: str
) -> None:
    """Whatever --host1 and --port1 hold: a usable Account, or UsageError; nothing else."""
    try:
        args = PARSER.parse_args(
            ["test", "--host1", host, "--port1", port, "--user1", "alice"]
        )
        account = account_from_args(args, "1")
    except UsageError as error:
        assert "\n" not in str(error)
        return
    assert host_problem(account.host) == "" and account.host == bare_host(host)
    assert 1 <= account.port <= MAX_PORT
    account.host.encode("idna")  # what the socket layer will do with it


@settings(max_examples=150, deadline=None, database=None)
@given(host=HOSTS, port=PORTS)
@example(host="imap.example.org", port="\u00b2")  # isdigit() but not int()
def test_settings_form_checks_never_raise(host: str, port: str) -> None:
    """The app's form: any host and port text gives field messages or a buildable Account."""
    problems = check_fields("alice", "pw", host, port)
    if "host" not in problems and "port" not in problems:
        Account(host=check_host(host, "source"), port=check_port(port, "source"),
                login="alice", password="pw")
    else:
        assert all(message.endswith(".") for message in problems.values())
