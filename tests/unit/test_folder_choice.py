"""A folder choice (``--folder``) that selects no source folder is said, never silent:
an error when nothing at all is selected (the job copies nothing), else a warning."""

from __future__ import annotations

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyListener, CopyResult, Severity
from imapcopy_tui.engine.session import RawFolder
from tests.fakes import FakeServer, FakeSession, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")


def copy(*include: str) -> tuple[CopyResult, FakeServer]:
    source = FakeServer(folders={
        "INBOX": [Stored(message(1, "inbox"))],
        "Archive": [Stored(message(2, "archive"))],
    })  # fmt: skip
    destination = FakeServer()
    options = CopyOptions(send_report=False, include=include)
    result = Copier(SRC, DST, MemoryLedger(), CopyListener(), options,
                    connect=connector(source, destination)).run()  # type: ignore[arg-type]
    return result, destination


def test_a_choice_that_selects_nothing_is_an_error_naming_the_source_folders() -> None:
    result, destination = copy("archive")
    assert [(str(i), i.severity) for i in result.issues] == [(
        "job: your folder choice 'archive' matches no source folder (case counts, * stands for "
        "any part); the source has INBOX, Archive",
        Severity.ERROR,
    )]
    assert result.errors and result.total("copied") == 0
    assert destination.folders == {"INBOX": []}


def test_one_choice_of_two_selecting_nothing_is_a_warning() -> None:
    result, destination = copy("Arch*", "Nomatch")
    assert [(str(i), i.severity) for i in result.issues] == [(
        "job: your folder choice 'Nomatch' matches no source folder (case counts, * stands for "
        "any part); the source has INBOX, Archive",
        Severity.WARNING,
    )]
    assert not result.errors
    assert [s.raw for s in destination.folders["Archive"]] == [message(2, "archive")]


class GmailSession(FakeSession):
    """Lists the source as Gmail does: views under [Gmail] with their special-use flags."""

    def list_folders(self) -> list[RawFolder]:
        flags = {"[Gmail]": {"\\Noselect"}, "[Gmail]/All Mail": {"\\All"},
                 "[Gmail]/Starred": {"\\Flagged"}}
        return [RawFolder(name, "/", frozenset(flags.get(name, set())))
                for name in self.server.folders]


def test_a_choice_naming_a_skipped_gmail_view_is_not_called_a_typo() -> None:
    """--folder '[Gmail]/All Mail' on Gmail, whose views are skipped by default: the
    view's own "not copied" line explains, not "matches no source folder"."""
    source = FakeServer(folders={
        "INBOX": [Stored(message(1, "inbox"))], "[Gmail]": [],
        "[Gmail]/All Mail": [Stored(message(1, "inbox"))], "[Gmail]/Starred": [],
    })  # fmt: skip
    inner = connector(source, FakeServer())

    def connect(account: Account, **kwargs: object) -> FakeSession:
        if account.role == "source":
            return GmailSession(account, source)
        return inner(account, **kwargs)

    result = Copier(SRC, DST, MemoryLedger(), CopyListener(),
                    CopyOptions(send_report=False, include=("[Gmail]/All Mail",)),
                    connect=connect).run()  # type: ignore[arg-type]
    texts = [str(i) for i in result.issues]
    assert not any("matches no source folder" in t for t in texts), texts
    assert any(t.startswith("[Gmail]/All Mail: not copied:") for t in texts), texts
