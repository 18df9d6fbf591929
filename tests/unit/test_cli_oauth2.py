"""OAuth2 options of the command line (imapsync's --authmech1, --oauthaccesstoken1, and our
--oauthcommand1): which sign-in they make, and the one line when they do not fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from imapcopy_tui.cli import ExitCode, account_from_args, build_parser, main
from imapcopy_tui.engine.account import Account, AuthMethod

TOKEN = "ya29.a0AfH6SMBx-secret-token"
SOURCE = ["--host1", "imap.example.org", "--user1", "alice"]


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line of a refused ``imapcopy test``; it never connects."""
    assert main(["test", *SOURCE, *argv]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    return line.removeprefix("imapcopy: error: ")


def source(*argv: str) -> Account:
    return account_from_args(build_parser().parse_args(["test", *SOURCE, *argv]), "1")


@pytest.mark.parametrize(
    ("argv", "auth"),
    [
        ([], AuthMethod.PASSWORD),
        (["--authmech1", "login"], AuthMethod.PASSWORD),
        (["--authmech1", "PLAIN"], AuthMethod.PLAIN),
        (["--oauthcommand1", "oauth2l fetch"], AuthMethod.OAUTH2),
        (["--authmech1", "XOAUTH2", "--oauthcommand1", "oauth2l fetch"], AuthMethod.XOAUTH2),
        (["--authmech1", "oauthbearer", "--oauthcommand1", "x"], AuthMethod.OAUTHBEARER),
    ],
)
def test_authmech_and_token_source_make_the_sign_in(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], auth: AuthMethod
) -> None:
    """imapsync's names, any case; a token source alone means OAuth2 (XOAUTH2 first)."""
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw")
    assert source(*argv).auth is auth


def test_oauth2_asks_for_no_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No password anywhere (no file, no variable, no terminal) is fine with OAuth2; the
    token file is kept as an absolute path, for a runner started elsewhere."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "token").write_text(TOKEN)
    account = source("--oauthaccesstoken1", "token")
    assert account.password == ""
    assert account.token_file == str(tmp_path / "token")


def test_a_token_given_instead_of_a_file_is_refused_unechoed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """imapsync also takes the token itself: refused (argv is visible to every user), and
    the value is not repeated."""
    line = refused(capsys, "--oauthaccesstoken1", TOKEN)
    assert line == (
        "--oauthaccesstoken1 takes a file whose first line is the source access token, and no "
        "such file exists (a token on the command line would be visible to every user of "
        "this machine)")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--authmech1", "XOAUTH2"],
         ("--authmech1 XOAUTH2 signs in with an OAuth2 access token: give "
          "--oauthaccesstoken1 FILE or --oauthcommand1 CMD")),
        (["--authmech1", "PLAIN", "--oauthcommand1", "x"],
         ("--authmech1 PLAIN signs in with a password; --oauthaccesstoken1 and "
          "--oauthcommand1 go with XOAUTH2 or OAUTHBEARER")),
        (["--oauthcommand1", " "],
         "--oauthcommand1 is empty: give the command that prints the token"),
        (["--oauthcommand1", "x", "--oauthaccesstoken1", "/etc/hostname"],
         "argument --oauthaccesstoken1: not allowed with argument --oauthcommand1"),
        (["--authmech1", "CRAM-MD5"],
         ("argument --authmech1: invalid choice: 'CRAM-MD5' (choose from 'LOGIN', 'PLAIN', "
          "'XOAUTH2', 'OAUTHBEARER')")),
        (["--oauthcommand1", "x", "--passfile1", "/etc/hostname"],
         ("--passfile1 gives a password, but the source account signs in with an OAuth2 "
          "access token (--oauthaccesstoken1 or --oauthcommand1): give one or the other")),
    ],
    ids=["no-token", "password-and-token", "empty-command", "two-sources", "unknown",
         "passfile-and-token"],
)
def test_options_that_do_not_fit(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert refused(capsys, *argv) == said


def test_oauth2_only_preset_warns_about_a_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--preset1 microsoft365 with a password: a warning that it will be refused, and how
    to give a token instead (the preset may be out of date: not an error)."""
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", "pw")
    account_from_args(build_parser().parse_args(
        ["test", "--preset1", "microsoft365", "--user1", "alice@example.org"]), "1")
    assert capsys.readouterr().err == (
        "imapcopy: warning: Microsoft 365 / Exchange Online signs in with OAuth2 only, "
        "passwords are refused: give --oauthcommand1 CMD or --oauthaccesstoken1 FILE\n")
    account_from_args(build_parser().parse_args(
        ["test", "--preset1", "microsoft365", "--user1", "alice@example.org",
         "--oauthcommand1", "get-token"]), "1")
    assert capsys.readouterr().err == ""
