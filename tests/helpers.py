"""Helpers shared by the integration tests: accounts on the test servers, running a job,
and comparing what is really on the destination with what the source holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.progress import CopyListener
from imapcopy_tui.runner import JobOutcome, run_job
from imapcopy_tui.storage.store import JobStore
from tests.corpus import Corpus, MessageRecord, imap_name, list_folder_names, read_folder
from tests.dovecot import DovecotServer

FAST = {"backoff_seconds": 0.05, "max_backoff_seconds": 0.2}


def account(server: DovecotServer, user: str, role: str = "source", **changes: Any) -> Account:
    """An account on the test server's plain port (TLS is tested on its own)."""
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.plain_port,
        "login": user,
        "password": server.password,
        "security": Security.PLAIN,
        "role": role,
    }
    values.update(changes)
    return Account(**values)


def sync(
    store: JobStore,
    source: Account,
    destination: Account,
    listener: CopyListener | None = None,
    **options: Any,
) -> JobOutcome:
    """Create a job and run it to the end in this thread, as the CLI does."""
    job = store.create_job(source, destination)
    return run_job(
        store, job.id, source, destination, CopyOptions(**{**FAST, **options}), listener
    )


def new_store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3")


def is_report(record: MessageRecord) -> bool:
    """Whether a destination message is one of our report mails."""
    return "imapcopy@localhost" in (record.header("From") or "")


def destination_folder(
    server: DovecotServer, user: str, corpus: Corpus
) -> dict[tuple[str, ...], list[MessageRecord]]:
    """Every corpus folder as read back from ``server``, reports left out."""
    client = server.client(user)
    try:
        return {
            path: [
                r
                for r in read_folder(client, imap_name(path, server.separator, server.prefix))
                if not is_report(r)
            ]
            for path in corpus.messages
        }
    finally:
        client.logout()


def reports(server: DovecotServer, user: str) -> list[MessageRecord]:
    client = server.client(user)
    try:
        return [r for r in read_folder(client, "INBOX") if is_report(r)]
    finally:
        client.logout()


def assert_identical(corpus: Corpus, server: DovecotServer, user: str) -> None:
    """The destination holds exactly the corpus: names, bytes, flags, dates, order, counts."""
    client = server.client(user)
    try:
        names = list_folder_names(client)
        subscribed = {
            n if isinstance(n, str) else n.decode() for *_, n in client.list_sub_folders()
        }
    finally:
        client.logout()
    expected_names = {imap_name(path, server.separator, server.prefix) for path in corpus.messages}
    assert expected_names <= names, f"missing folders: {expected_names - names}"
    missing_subscriptions = {n for n in expected_names if n != "INBOX"} - subscribed
    assert not missing_subscriptions, f"not subscribed: {missing_subscriptions}"
    found = destination_folder(server, user, corpus)
    for path, records in corpus.messages.items():
        got = found[path]
        assert len(got) == len(records), f"{path}: {len(got)} messages, expected {len(records)}"
        for index, (expected, actual) in enumerate(zip(records, got, strict=True)):
            assert actual.raw == expected.raw, f"{path}[{index}]: bytes differ"
            assert actual.flags == expected.flags, f"{path}[{index}]: flags differ"
            assert actual.internal_date == expected.internal_date, f"{path}[{index}]: date"
            assert actual.size == expected.size
