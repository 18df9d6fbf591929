"""A folder choice (``--folder``) that selects no source folder is said, never silent:
an error when nothing at all is selected (the job copies nothing), else a warning."""

from __future__ import annotations

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyListener, CopyResult, Severity
from tests.fakes import FakeServer, Stored, connector, message

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
