"""Over-quota refusals stop the job only when they come in a row: messages landing between
them (a nearly full mailbox taking the small ones) keep the copy going."""

from __future__ import annotations

import pytest

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.copier import Copier, CopyOptions
from imapcopy_tui.engine.ledger import MemoryLedger
from imapcopy_tui.engine.progress import CopyListener
from imapcopy_tui.engine.transfer import QUOTA_REFUSALS_BEFORE_STOPPING
from imapcopy_tui.errors import DestinationFullError, QuotaExceededError
from tests.fakes import FakeServer, Stored, connector, message

SRC = Account(host="src", login="a", password="x")
DST = Account(host="dst", login="b", password="y", role="destination")
BIG = b"x" * 5000


def refuse_big(_folder: str, raw: bytes) -> None:
    if BIG in raw:
        raise QuotaExceededError("destination account b on dst:993: the server answered: "
                                 "[OVERQUOTA] Quota exceeded")


def run(messages: list[bytes]) -> tuple[Copier, FakeServer]:
    source = FakeServer(folders={"INBOX": [Stored(m) for m in messages]})
    destination = FakeServer(on_append=refuse_big)
    copier = Copier(SRC, DST, MemoryLedger(), CopyListener(),
                    CopyOptions(send_report=False, connections=1),
                    connect=connector(source, destination))  # type: ignore[arg-type]
    return copier, destination


def test_refusals_with_messages_landing_between_them_do_not_stop_the_job() -> None:
    """40 messages, every other one too big for the room left: 20 recorded as failed, the
    20 others copied, in order; the job finishes (with errors)."""
    messages = [message(n, "small") if n % 2 else message(n, "big") + BIG for n in range(40)]
    copier, destination = run(messages)
    result = copier.run()
    assert result.total("failed") == 20 and result.total("copied") == 20
    assert [s.raw for s in destination.folders["INBOX"]] == messages[1::2]


def test_refusals_in_a_row_stop_the_job_keeping_what_landed() -> None:
    """3 that fit, then only refusals: the job stops at the tenth refusal in a row, the
    three copied kept."""
    messages = [message(n) for n in range(3)] + [message(n, "big") + BIG for n in range(3, 30)]
    copier, destination = run(messages)
    with pytest.raises(DestinationFullError, match="10 messages in a row were refused"):
        copier.run()
    assert [s.raw for s in destination.folders["INBOX"]] == messages[:3]
    assert copier.result.total("failed") == QUOTA_REFUSALS_BEFORE_STOPPING - 1
