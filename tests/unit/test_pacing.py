"""Busy answers: which server words mean "wait", how long, and the pace afterwards."""

from __future__ import annotations

import pytest

from imapcopy_tui.engine.answers import SERVER_WORDS_LIMIT, busy_answer, refusal
from imapcopy_tui.engine.pacing import MAX_PAUSE, MAX_SUGGESTED_WAIT, Pacer, RateLimit
from imapcopy_tui.errors import QuotaExceededError, ServerBusyError, ServerError


@pytest.mark.parametrize(
    ("words", "code", "retry_after"),
    [
        ("[UNAVAILABLE] Temporary failure", "UNAVAILABLE", None),
        ("[THROTTLED] Too fast", "THROTTLED", None),
        ("[LIMIT] Too many flags in mailbox", "LIMIT", None),
        ("[INUSE] Mailbox in use", "INUSE", None),
        ("Request is throttled. Suggested Backoff Time: 1234 milliseconds", "", 1.234),
        ("Server busy, try again in 2 minutes", "", 120.0),
        ("Daily limit reached, try again in 2 hours", "", 7200.0),
        ("[THROTTLED] retry after 30 s", "THROTTLED", 30.0),
        ("Too many requests, retry after 500 ms", "", 0.5),
        ("[ALERT] Account exceeded command or bandwidth limits. (Failure)", "", None),
    ],
)
def test_busy_words(words: str, code: str, retry_after: float | None) -> None:
    error = busy_answer("destination account a on h:143", words)
    assert isinstance(error, ServerBusyError)
    assert (error.code, error.retry_after) == (code, retry_after)
    assert str(error) == f"destination account a on h:143: the server asks to wait ({words})"
    assert error.transient and not error.connection_closed


@pytest.mark.parametrize(
    "words",
    ["[OVERQUOTA] Quota exceeded", "[TRYCREATE] No such mailbox", "Invalid arguments",
     "[ALERT] Too many simultaneous connections. (Failure)",
     "[LIMIT] Mail size is larger than the maximum size allowed by server configuration",
     "[OVERQUOTA] Quota exceeded, try again after deleting mail",
     "[AUTHENTICATIONFAILED] Authentication failed, try again",
     "command: APPEND => [CANNOT] try again with another name"],
)
def test_refusals_are_not_busy(words: str) -> None:
    error = refusal("source account a on h:143", words)
    # Over quota is a refusal of its own kind (a run of them stops the job), not a wait.
    quota = words.startswith("[OVERQUOTA]")
    assert type(error) is (QuotaExceededError if quota else ServerError)
    assert str(error) == f"source account a on h:143: the server answered: {words}"


def test_waits_double_without_a_suggestion_and_are_capped() -> None:
    pacer = Pacer(first_wait=1.0, max_wait=5.0)
    busy = ServerBusyError("busy", code="UNAVAILABLE")
    assert [pacer.busy(busy, tries) for tries in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert pacer.busy(busy, 1) == 1.0  # another command's first busy answer
    assert pacer.stats.busy_answers == 6 and pacer.stats.waited_seconds == 18.0


def test_a_suggested_wait_is_honoured_within_reason() -> None:
    pacer = Pacer(first_wait=1.0, max_wait=5.0)
    assert pacer.busy(ServerBusyError("busy", retry_after=0.3), 1) == 0.3
    assert pacer.busy(ServerBusyError("busy", retry_after=30.0), 2) == 30.0
    assert pacer.busy(ServerBusyError("busy", retry_after=86400.0), 3) == MAX_SUGGESTED_WAIT


def test_the_pace_slows_after_throttling_and_recovers() -> None:
    pacer = Pacer(first_wait=2.0, max_wait=60.0)
    assert pacer.pause == 0.0
    pacer.busy(ServerBusyError("busy"), 1)
    assert pacer.pause == 0.5
    pacer.busy(ServerBusyError("busy"), 1)
    assert pacer.pause == 1.0
    for _ in range(100):
        pacer.busy(ServerBusyError("busy"), 1)
    assert pacer.pause == MAX_PAUSE
    for _ in range(60):
        pacer.succeeded()
    assert pacer.pause == 0.0



def test_rate_limit_lets_a_second_through_then_spaces_the_rest() -> None:
    now = [100.0]
    limit = RateLimit(1000, clock=lambda: now[0])
    assert limit.delay_for(1000) == 0.0  # the first second's worth at once
    assert limit.delay_for(500) == 0.5
    assert limit.delay_for(500) == 1.0
    now[0] += 1.0
    assert limit.delay_for(1000) == 1.0  # 2,000 booked ahead, one second has passed
    now[0] += 60.0  # idle for a minute: the credit is one second, not sixty
    assert limit.delay_for(1000) == 0.0
    assert limit.delay_for(1000) == 1.0


def test_server_words_in_a_refusal_are_one_short_line() -> None:
    """A hostile or broken server's NO (a page of text, line breaks, an escape sequence)
    is shown on one line of at most SERVER_WORDS_LIMIT characters, busy or not; the
    suggested wait is still read from the whole answer."""
    page = "too large\r\n\x1b[2J" + "x" * 1000
    refused = refusal("destination account a on h", page)
    words = str(refused).removeprefix("destination account a on h: the server answered: ")
    assert type(refused) is ServerError and words.startswith("too large [2J")
    assert len(words) == SERVER_WORDS_LIMIT and "\n" not in words and "\x1b" not in words
    busy = refusal("d", "[THROTTLED]\r\n" + "y" * 1000 + " Suggested Backoff Time: 300 ms")
    assert isinstance(busy, ServerBusyError) and busy.retry_after == 0.3
    assert len(str(busy)) < SERVER_WORDS_LIMIT + 40 and "\n" not in busy.refusal
