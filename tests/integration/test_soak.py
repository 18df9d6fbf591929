"""The soak test: a few thousand messages copied while a proxy cuts both connections at
random moments; the destination must end identical to the source.

CI runs a short version.  The long one is one command (see the README)::

    IMAPCOPY_SOAK_MESSAGES=5000 IMAPCOPY_SOAK_SECONDS=900 python3 -m pytest -m soak
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.runner import run_job
from imapcopy_tui.storage.store import JobState
from tests.corpus import MessageRecord, list_folder_names, read_folder
from tests.dovecot import DovecotServer
from tests.faultproxy import FaultProxy, RandomCuts
from tests.helpers import FAST, account, new_store

pytestmark = [pytest.mark.dovecot, pytest.mark.soak]

MESSAGES = int(os.environ.get("IMAPCOPY_SOAK_MESSAGES", "800"))
SECONDS = float(os.environ.get("IMAPCOPY_SOAK_SECONDS", "180"))
SEED = int(os.environ.get("IMAPCOPY_SOAK_SEED", "7"))
WORDS = ("mail", "copy", "server", "folder", "quota", "invoice", "meeting", "été", "über")
FOLDERS = ("INBOX", "Sent", "Archive", "Archive/2020", "Lists/dev")


def fill(server: DovecotServer, user: str, count: int, rng: random.Random) -> None:
    """``count`` messages of 1-40 kB over a few folders, with flags and dates."""
    client = server.client(user)
    try:
        for name in FOLDERS[1:]:
            client.create_folder(name)
        start = datetime(2015, 1, 1, tzinfo=timezone(timedelta(hours=2)))
        batch: dict[str, list[dict[str, object]]] = {name: [] for name in FOLDERS}
        for number in range(count):
            folder = FOLDERS[rng.randrange(len(FOLDERS))]
            words = rng.randrange(150, 6_000)
            body = "\r\n".join(
                " ".join(rng.choice(WORDS) for _ in range(10)) for _ in range(words // 10)
            )
            raw = (
                f"From: sender{number % 37}@example.org\r\nTo: me@example.net\r\n"
                f"Subject: soak {number}\r\nMessage-ID: <soak-{SEED}-{number}@example.org>\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                f"\r\n{body}\r\n"
            ).encode()
            flags = rng.choice([(), ("\\Seen",), ("\\Seen", "\\Flagged"), ("$label1",)])
            date = start + timedelta(minutes=number * 7)
            batch[folder].append({"msg": raw, "flags": flags, "date": date})
        for folder, messages in batch.items():
            for first in range(0, len(messages), 200):
                client.multiappend(folder, messages[first : first + 200])
    finally:
        client.logout()


def snapshot(server: DovecotServer, user: str) -> dict[str, list[MessageRecord]]:
    client = server.client(user)
    try:
        names = list_folder_names(client) & set(FOLDERS)
        return {name: read_folder(client, name) for name in sorted(names)}
    finally:
        client.logout()


FIELDS = ("raw", "flags", "internal_date", "size")


def assert_same(
    got: dict[str, list[MessageRecord]], expected: dict[str, list[MessageRecord]]
) -> None:
    """Folder by folder: say what is missing, doubled or altered, not just "differs"."""
    assert sorted(got) == sorted(expected)
    for name, records in expected.items():
        subjects = [r.header("Subject") for r in got[name]]
        doubled = {s for s in subjects if subjects.count(s) > 1}
        missing = {r.header("Subject") for r in records} - set(subjects)
        assert not doubled and not missing, f"{name}: doubled {doubled}, missing {missing}"
        for index, (want, have) in enumerate(zip(records, got[name], strict=True)):
            assert have == want, (
                f"{name}[{index}] ({want.header('Subject')}) differs: "
                f"{[k for k in FIELDS if getattr(have, k) != getattr(want, k)]}"
                f" {have.flags} {want.flags} {have.internal_date} {want.internal_date}"
            )


def test_random_cuts_on_both_sides_leave_an_identical_copy(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    make_user: object,
) -> None:
    assert callable(make_user)
    src_user, dst_user = make_user(), make_user()
    rng = random.Random(SEED)
    fill(dovecot_src, src_user, MESSAGES, rng)
    expected = snapshot(dovecot_src, src_user)
    assert sum(len(m) for m in expected.values()) == MESSAGES

    stop = threading.Event()
    cancel = threading.Timer(SECONDS, stop.set)
    cancel.start()
    # Each connection is cut after 0.3 to 3 MB in either direction: more than a login and
    # a folder scan, so that every connection makes some progress before it dies.
    cuts = (RandomCuts(300_000, 3_000_000, seed=SEED), RandomCuts(300_000, 3_000_000, seed=~SEED))
    started = time.monotonic()
    with (
        FaultProxy(dovecot_src.host, dovecot_src.plain_port) as source_proxy,
        FaultProxy(dovecot_dst.host, dovecot_dst.plain_port) as destination_proxy,
    ):
        source_proxy.random_cuts, destination_proxy.random_cuts = cuts
        store = new_store(tmp_path)
        src = account(dovecot_src, src_user, port=source_proxy.port)
        dst = account(dovecot_dst, dst_user, "destination", port=destination_proxy.port)
        job = store.create_job(src, dst)
        try:
            outcome = run_job(
                store, job.id, src, dst,
                CopyOptions(**FAST, max_reconnects=20, send_report=False), cancel=stop,
            )
        finally:
            cancel.cancel()
    elapsed = time.monotonic() - started
    cut_count = source_proxy.events["random cut"] + destination_proxy.events["random cut"]
    print(f"\nsoak: {MESSAGES} messages, {cut_count} cuts, {elapsed:.1f} s, seed {SEED}")
    assert outcome.state is JobState.FINISHED, (outcome.failure, outcome.result.errors)
    assert cut_count >= MESSAGES // 200, "the proxy did not cut often enough to prove much"
    assert_same(snapshot(dovecot_dst, dst_user), expected)
    assert snapshot(dovecot_src, src_user) == expected  # the source is untouched
