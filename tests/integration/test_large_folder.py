"""One large folder: its batches are fetched over several source connections (the pairs
left without a folder of their own help) and appended in order by one destination
connection, so the copy keeps the source's UID order."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from imapcopy_tui.engine import logins
from imapcopy_tui.engine.session import SLOW_LINK_SECONDS
from imapcopy_tui.storage.store import JobState
from tests.corpus import MessageRecord, read_folder
from tests.dovecot import DovecotServer
from tests.faultproxy import Action, Fault, FaultProxy
from tests.helpers import FAST, account, new_store, sync

pytestmark = pytest.mark.dovecot

BODY_FETCH = rb"^UID FETCH .*BODY\.PEEK\[\]"
MESSAGES = 300


def fill_inbox(server: DovecotServer, user: str, count: int) -> list[MessageRecord]:
    """``count`` messages of 2-30 kB in the inbox, with flags and dates; read back."""
    rng = random.Random(count)
    start = datetime(2016, 3, 1, tzinfo=timezone(timedelta(hours=1)))
    client = server.client(user)
    try:
        messages: list[dict[str, object]] = []
        for number in range(count):
            body = "\r\n".join(
                f"line {n} of message {number}" for n in range(rng.randrange(80, 1200))
            )
            raw = (
                f"From: a{number % 11}@example.org\r\nSubject: large folder {number}\r\n"
                f"Message-ID: <large-{number}@example.org>\r\n\r\n{body}\r\n"
            ).encode()
            flags = rng.choice([(), ("\\Seen",), ("\\Seen", "\\Answered"), ("$Forwarded",)])
            messages.append({"msg": raw, "flags": flags, "date": start + timedelta(hours=number)})
        for first in range(0, count, 100):
            client.multiappend("INBOX", messages[first : first + 100])
        return read_folder(client, "INBOX")
    finally:
        client.logout()


def body_fetchers(proxy: FaultProxy) -> set[int]:
    """The source connections that fetched message bodies."""
    return {number for number, line in proxy.lines if re.search(BODY_FETCH, line, re.I)}


def assert_same_inbox(server: DovecotServer, user: str, expected: list[MessageRecord]) -> None:
    """Same bytes, flags and dates, in the same order: nothing lost, doubled or reordered."""
    client = server.client(user)
    try:
        got = read_folder(client, "INBOX")
    finally:
        client.logout()
    assert [r.header("Subject") for r in got] == [r.header("Subject") for r in expected]
    assert got == expected


def copy_inbox(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    proxy: FaultProxy,
    src_user: str,
    dst_user: str,
) -> JobState:
    # Source answers come 2 ms late, piece by piece: fetching a batch then takes longer
    # than appending one, the case where helping pays.  Without it the folder's own fetcher
    # may stay ahead alone on a fast machine, and the test would prove nothing.
    proxy.delay = 0.002
    outcome = sync(
        new_store(tmp_path),
        account(dovecot_src, src_user, port=proxy.port),
        account(dovecot_dst, dst_user, "destination"),
        send_report=False,
        connections=4,
        fetch_batch_count=20,
        # Appending slowed to about 2 s for the whole folder, so that the other
        # connections have time to log in and help; a fast run may not need them.
        max_bytes_per_second=1_500_000,
        **FAST,
    )
    assert outcome.failure is None, outcome.failure
    assert outcome.state is JobState.FINISHED, outcome.result.errors
    return outcome.state


def test_large_folder_is_fetched_over_several_connections_and_appended_in_order(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, make_user: object
) -> None:
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    expected = fill_inbox(dovecot_src, src_user, MESSAGES)
    with FaultProxy(dovecot_src.host, dovecot_src.plain_port) as proxy:
        copy_inbox(tmp_path, dovecot_src, dovecot_dst, proxy, src_user, dst_user)
    assert len(body_fetchers(proxy)) >= 2, proxy.lines
    assert_same_inbox(dovecot_dst, dst_user, expected)


def test_a_fetching_connection_cut_mid_answer_loses_and_doubles_nothing(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, make_user: object
) -> None:
    """Whichever connection the cut hits (the folder's own, or a helper's), the batch it
    was fetching is fetched again by another, and the folder still arrives in order."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    expected = fill_inbox(dovecot_src, src_user, MESSAGES)
    with FaultProxy(dovecot_src.host, dovecot_src.plain_port) as proxy:
        proxy.add(Fault(BODY_FETCH, Action.CUT_RESPONSE, after_bytes=30_000, skip=4, times=2))
        copy_inbox(tmp_path, dovecot_src, dovecot_dst, proxy, src_user, dst_user)
    assert proxy.events["CUT_RESPONSE"] == 2
    assert_same_inbox(dovecot_dst, dst_user, expected)


@pytest.mark.parametrize(
    ("delay", "connections", "limit", "pairs"),
    [
        (0.0, None, None, 2),  # loopback: a fast link, the default takes two pairs
        (0.06, None, None, 4),  # a slow link to the source: four
        (0.0, 4, None, 4),  # asked for: four, however fast the link
        (0.06, None, 3, 3),  # a provider's limit of 3 caps the engine's choice
        (0.0, None, 3, 2),  # ... and is not a count: on a fast link, still two
    ],
    ids=["fast", "slow", "fast-asked-for-4", "slow-limit-3", "fast-limit-3"],
)
def test_the_default_pairs_follow_the_links_round_trip(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    make_user: object,
    monkeypatch: pytest.MonkeyPatch,
    delay: float,
    connections: int | None,
    limit: int | None,
    pairs: int,
) -> None:
    """A large folder gets every pair the job allows; how many, unless asked for, depends
    on the first pair's links: more pairs hide round trips, on a fast link they only cost
    logins.  Each pair has one source connection (counted at the proxy)."""
    # A slow link here is a round trip over 50 ms (really 10 ms): the proxy's 60 ms is
    # above it, and a fast link stays fast even on a machine busy with other tests.
    monkeypatch.setattr(logins, "SLOW_LINK_SECONDS", 0.05)
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    expected = fill_inbox(dovecot_src, src_user, 30)
    with FaultProxy(dovecot_src.host, dovecot_src.plain_port) as proxy:
        proxy.delay = delay
        outcome = sync(
            new_store(tmp_path),
            account(dovecot_src, src_user, port=proxy.port),
            account(dovecot_dst, dst_user, "destination"),
            send_report=False,
            connections=connections,
            connection_limit=limit,
            fetch_batch_count=5,  # 30 messages: a folder shared by every pair
        )
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    assert proxy.connections == pairs, proxy.lines
    # Measured with one NOOP on the planning pair, only when the engine chooses.
    assert proxy.commands["NOOP"] == (1 if connections is None else 0), proxy.lines
    assert_same_inbox(dovecot_dst, dst_user, expected)


def test_the_fast_link_bar_is_10_ms() -> None:
    """The bar the test above moves: the same as auto compression's."""
    assert logins.SLOW_LINK_SECONDS == SLOW_LINK_SECONDS == 0.010


def test_a_rerun_with_nothing_to_copy_measures_nothing(
    tmp_path: Path, dovecot_src: DovecotServer, dovecot_dst: DovecotServer, make_user: object
) -> None:
    """The links are measured only when there is mail to copy: an unchanged mailbox's
    re-run sends no NOOP and opens one pair (each round trip counts on a slow link); a
    folder that needs copying again only because the destination lost its mail is."""
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    fill_inbox(dovecot_src, src_user, 20)
    store = new_store(tmp_path)
    # One proxy for both runs: the same port, so the same source account for the ledger.
    with FaultProxy(dovecot_src.host, dovecot_src.plain_port) as proxy:
        seen = []
        for run in ("first", "again"):
            outcome = sync(
                store,
                account(dovecot_src, src_user, port=proxy.port),
                account(dovecot_dst, dst_user, "destination"),
                send_report=False,
            )
            assert outcome.state is JobState.FINISHED, (run, outcome.failure)
            seen.append((proxy.commands["NOOP"], proxy.commands["EXAMINE"], proxy.connections))
        assert outcome.result.total("copied") == 0 and outcome.result.total("present") == 20
        # Someone empties the destination folder: STATUS shows the source unchanged, the
        # destination's loss sends the folder back to the queue, and it is measured then.
        client = dovecot_dst.client(dst_user)
        try:
            client.select_folder("INBOX")
            client.delete_messages(client.search("ALL"))
            client.expunge()
        finally:
            client.logout()
        outcome = sync(
            store,
            account(dovecot_src, src_user, port=proxy.port),
            account(dovecot_dst, dst_user, "destination"),
            send_report=False,
        )
        seen.append((proxy.commands["NOOP"], proxy.commands["EXAMINE"], proxy.connections))
    assert outcome.result.total("copied") == 20, outcome.result.errors
    # again: one login, nothing else; after the loss: measured, and the folder copied
    assert seen == [(1, 1, 1), (1, 1, 2), (2, 2, 3)], proxy.lines
