"""COMPRESS=DEFLATE (RFC 4978) against a real Dovecot offering it (``dovecot_zlib``).

Copies go through :class:`FaultProxy`, which sees the COMPRESS command and counts the
bytes on the wire.  Every copy ends by reading the destination back: identical to the
source (bytes, flags, keywords, internal dates, counts), compressed or not.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from imapcopy_tui import cli
from imapcopy_tui.engine import trace
from imapcopy_tui.engine.account import Account, Security
from imapcopy_tui.engine.copier import CopyOptions
from imapcopy_tui.engine.progress import CopyListener, Severity
from imapcopy_tui.engine.session import (
    Compression,
    CompressionOutcome,
    CompressionResult,
    ImapSession,
    open_session,
)
from imapcopy_tui.runner import JobOutcome, run_job
from imapcopy_tui.storage.store import JobState, JobStore
from tests.corpus import Corpus, fill_source, read_folder
from tests.dovecot import CERT_HOSTNAME, DovecotServer
from tests.faultproxy import Action, Fault, FaultProxy, RandomCuts
from tests.helpers import FAST, account, assert_identical, new_store, sync

pytestmark = pytest.mark.dovecot

TEXT_FOLDER = ("Text",)
_WORDS = (
    "the meeting invoice please find attached regards thanks project report budget "
    "quarter schedule review customer order delivery update tomorrow monday friday "
    "colleagues agenda minutes draft final version question answer"
).split()


def _text_message(rng: random.Random, number: int) -> bytes:
    """A plain-text mail of some 30 kB: compressible, as most mail is."""
    lines = [
        f"From: sender{number % 7}@example.org",
        "To: team@example.org",
        f"Subject: {' '.join(rng.choices(_WORDS, k=5))} #{number}",
        f"Message-ID: <text-{number}@example.org>",
        "Date: Mon, 3 Mar 2025 10:00:00 +0100",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
    ]
    while sum(len(line) + 2 for line in lines) < 30_000:
        lines.append(" ".join(rng.choices(_WORDS, k=rng.randint(6, 12))))
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture(scope="module")
def zlib_source(dovecot_zlib: DovecotServer) -> tuple[str, Corpus]:
    """(user, corpus) on ``dovecot_zlib``: the usual corpus (hostile cases, a large
    attachment that does not compress) and a folder of 60 plain-text mails that does."""
    user = "corpus-zlib"
    client = dovecot_zlib.client(user)
    try:
        corpus = fill_source(client, dovecot_zlib.separator, dovecot_zlib.prefix)
        name = corpus.name(TEXT_FOLDER)
        client.create_folder(name)
        rng = random.Random(4978)
        when = datetime(2021, 6, 1, 8, 30, tzinfo=UTC)
        for number in range(60):
            flags = [("\\Seen",), ("\\Flagged", "$Work"), ()][number % 3]
            client.append(name, _text_message(rng, number), flags, when + timedelta(hours=number))
        texts = tuple(read_folder(client, name))
    finally:
        client.logout()
    assert len(texts) == 60
    return user, replace(
        corpus,
        folders=corpus.folders + (TEXT_FOLDER,),
        messages={**corpus.messages, TEXT_FOLDER: texts},
    )


@pytest.fixture
def proxies(dovecot_zlib: DovecotServer) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    """(source proxy, destination proxy), both to ``dovecot_zlib``'s plain port."""
    with FaultProxy(dovecot_zlib.host, dovecot_zlib.plain_port) as source, FaultProxy(
        dovecot_zlib.host, dovecot_zlib.plain_port
    ) as destination:
        yield source, destination


def _through(
    store: JobStore,
    server: DovecotServer,
    src_user: str,
    dst_user: str,
    proxies: tuple[FaultProxy, FaultProxy],
    listener: CopyListener | None = None,
    **options: Any,
) -> JobOutcome:
    source, destination = proxies
    return sync(
        store,
        account(server, src_user, port=source.port),
        account(server, dst_user, "destination", port=destination.port),
        listener,
        send_report=False,
        **options,
    )


def _finished(outcome: JobOutcome) -> None:
    assert outcome.failure is None, outcome.failure
    assert outcome.state is JobState.FINISHED, outcome.result.issues


def _wire(proxies: tuple[FaultProxy, FaultProxy]) -> tuple[int, int]:
    """(bytes the source sent us, bytes we sent the destination)."""
    return proxies[0].bytes_to_client, proxies[1].bytes_to_server


def test_compressed_copy_is_identical_smaller_and_reruns_to_nothing(
    tmp_path: Path,
    dovecot_zlib: DovecotServer,
    zlib_source: tuple[str, Corpus],
    make_user: Any,
) -> None:
    """--compress on: every connection on both sides sends COMPRESS, the copy is identical
    and fewer bytes cross the wire than with --compress off (which sends no COMPRESS); a
    second run, compressed, with a fresh job database, finds everything there and copies
    nothing."""
    src_user, corpus = zlib_source
    on_user, off_user = make_user(), make_user()
    store = new_store(tmp_path)
    with FaultProxy(dovecot_zlib.host, dovecot_zlib.plain_port) as s, FaultProxy(
        dovecot_zlib.host, dovecot_zlib.plain_port
    ) as d:
        outcome = _through(store, dovecot_zlib, src_user, on_user, (s, d),
                           compress=Compression.ON)
        _finished(outcome)
        assert not outcome.result.issues
        for proxy in (s, d):
            assert proxy.connections >= 1
            assert proxy.commands["COMPRESS"] == proxy.connections
        compressed = _wire((s, d))
    assert_identical(corpus, dovecot_zlib, on_user)

    with FaultProxy(dovecot_zlib.host, dovecot_zlib.plain_port) as s, FaultProxy(
        dovecot_zlib.host, dovecot_zlib.plain_port
    ) as d:
        _finished(_through(store, dovecot_zlib, src_user, off_user, (s, d),
                           compress=Compression.OFF))
        assert s.commands["COMPRESS"] == d.commands["COMPRESS"] == 0
        plain = _wire((s, d))
    assert_identical(corpus, dovecot_zlib, off_user)
    total = sum(r.size for records in corpus.messages.values() for r in records)
    assert min(plain) > total  # the mail, plus the protocol around it
    # A third of the corpus is a large attachment (base64 of random bytes), which
    # compresses to 3/4; the text mails compress several times over.
    assert compressed[0] < 0.75 * plain[0], (compressed, plain)
    assert compressed[1] < 0.75 * plain[1], (compressed, plain)

    again = tmp_path / "again"
    again.mkdir()
    with FaultProxy(dovecot_zlib.host, dovecot_zlib.plain_port) as s, FaultProxy(
        dovecot_zlib.host, dovecot_zlib.plain_port
    ) as d:
        outcome = _through(new_store(again), dovecot_zlib, src_user, on_user, (s, d),
                           compress=Compression.ON)
        _finished(outcome)
        assert s.commands["COMPRESS"] >= 1 and d.commands["COMPRESS"] >= 1
    assert outcome.result.total("copied") == 0
    assert outcome.result.total("present") == corpus.message_count
    assert_identical(corpus, dovecot_zlib, on_user)


def test_auto_does_not_compress_on_loopback(
    tmp_path: Path,
    dovecot_zlib: DovecotServer,
    zlib_source: tuple[str, Corpus],
    proxies: tuple[FaultProxy, FaultProxy],
    unique_user: str,
) -> None:
    """The default (auto): the server offers COMPRESS, but a loopback link is fast."""
    src_user, corpus = zlib_source
    assert CopyOptions().compress is Compression.AUTO
    _finished(_through(new_store(tmp_path), dovecot_zlib, src_user, unique_user, proxies))
    assert proxies[0].commands["COMPRESS"] == proxies[1].commands["COMPRESS"] == 0
    assert proxies[0].commands["LOGIN"] >= 1  # the proxy did see the commands
    assert_identical(corpus, dovecot_zlib, unique_user)


def test_auto_compresses_over_a_slow_link(
    dovecot_zlib: DovecotServer, unique_user: str
) -> None:
    """A link whose answers come 15 ms late is slow: auto compresses it; on loopback it
    does not; off never does."""
    with FaultProxy(dovecot_zlib.host, dovecot_zlib.plain_port) as proxy:
        acct = account(dovecot_zlib, unique_user, port=proxy.port)
        proxy.delay = 0.015
        with open_session(acct, compression=Compression.AUTO) as session:
            assert session.compressed
            assert session.statuses(["INBOX"])["INBOX"].messages == 0  # and it works
        with open_session(acct, compression=Compression.OFF) as session:
            assert not session.compressed
        proxy.delay = 0.0
        with open_session(acct, compression=Compression.AUTO) as session:
            assert not session.compressed
        assert proxy.commands["COMPRESS"] == 1


def test_on_without_the_capability_warns_once_and_copies(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """--compress on, servers without COMPRESS=DEFLATE: one warning per side in the job,
    however many connections, and an identical copy."""
    src_user, corpus = corpus_source
    store = new_store(tmp_path)
    outcome = sync(store, account(dovecot_src, src_user),
                   account(dovecot_dst, unique_user, "destination"),
                   send_report=False, compress=Compression.ON, connections=3)
    assert outcome.state is JobState.FINISHED, outcome.failure
    warnings = [str(i) for i in outcome.result.issues if i.severity is Severity.WARNING]
    assert sorted(warnings) == [
        f"job: the {side} server does not offer compression (COMPRESS=DEFLATE); "
        "copying uncompressed"
        for side in ("destination", "source")
    ]
    assert len(outcome.result.issues) == 2
    recorded = [i.message for i in store.get(outcome.job_id).issues]  # in the job too
    assert sum("does not offer compression" in m for m in recorded) == 2
    assert_identical(corpus, dovecot_dst, unique_user)


# A NO whose text carries an escape sequence, a tab and a byte that is not UTF-8: shown
# as one printable line.
HOSTILE_NO = b"NO [COMPRESSIONACTIVE] Not\x1b[31m now,\tsorry \xff"
HOSTILE_WORDS = "[COMPRESSIONACTIVE] Not [31m now, sorry \ufffd"
# The job's one warning when the source refuses COMPRESS with HOSTILE_NO, made safe.
SOURCE_REFUSED = (
    "job: the source server offers compression (COMPRESS=DEFLATE) but refused it "
    f"({HOSTILE_WORDS}); copying uncompressed"
)


@pytest.mark.parametrize(("reply", "outcome"), [
    (HOSTILE_NO, CompressionOutcome(CompressionResult.REFUSED, HOSTILE_WORDS)),
    (b"NO ", CompressionOutcome(CompressionResult.REFUSED, "")),  # no text at all
    (b"BAD Unknown command", CompressionOutcome(CompressionResult.REJECTED, "Unknown command")),
])
def test_refused_compress_is_recorded_and_the_connection_works(
    dovecot_zlib: DovecotServer, unique_user: str, reply: bytes, outcome: CompressionOutcome
) -> None:
    """Dovecot offers COMPRESS=DEFLATE; the answer to COMPRESS is replaced by a NO or a BAD:
    the session is uncompressed, says it was refused (with the server's words made safe),
    and goes on working.  The next connection, answered by Dovecot, is compressed."""
    with FaultProxy(dovecot_zlib.host, dovecot_zlib.plain_port) as proxy:
        acct = account(dovecot_zlib, unique_user, port=proxy.port)
        proxy.add(Fault(rb"^COMPRESS", Action.REPLY, reply=reply))
        with open_session(acct, compression=Compression.ON) as session:
            assert session.has("COMPRESS=DEFLATE")
            assert not session.compressed
            assert session.compression == outcome
            assert session.statuses(["INBOX"])["INBOX"].messages == 0
        with open_session(acct, compression=Compression.ON) as session:
            assert session.compressed
            assert session.compression == CompressionOutcome(CompressionResult.COMPRESSED)
        assert proxy.commands["COMPRESS"] == 2


def test_not_offered_and_not_asked_are_recorded(
    dovecot_src: DovecotServer, dovecot_zlib: DovecotServer, unique_user: str
) -> None:
    """Without the capability: NOT_OFFERED; off, or auto on loopback: NOT_ASKED."""
    with open_session(account(dovecot_src, unique_user), compression=Compression.ON) as session:
        assert session.compression.result is CompressionResult.NOT_OFFERED
    for mode in (Compression.OFF, Compression.AUTO):
        with open_session(account(dovecot_zlib, unique_user), compression=mode) as session:
            assert session.compression.result is CompressionResult.NOT_ASKED
            assert not session.compressed


def test_on_refused_by_the_source_warns_with_its_words_and_copies(
    tmp_path: Path,
    dovecot_zlib: DovecotServer,
    zlib_source: tuple[str, Corpus],
    proxies: tuple[FaultProxy, FaultProxy],
    unique_user: str,
) -> None:
    """--compress on, the source refusing COMPRESS on every connection: one warning, which
    says it was refused (not "does not offer") and quotes the server safely; the
    destination is compressed; the copy is identical."""
    src_user, corpus = zlib_source
    proxies[0].add(Fault(rb"^COMPRESS", Action.REPLY, reply=HOSTILE_NO, times=1000))
    outcome = _through(new_store(tmp_path), dovecot_zlib, src_user, unique_user, proxies,
                       compress=Compression.ON, connections=2)
    _finished(outcome)
    assert [str(i) for i in outcome.result.issues] == [SOURCE_REFUSED]
    assert outcome.result.issues[0].severity is Severity.WARNING
    assert proxies[0].commands["COMPRESS"] == proxies[0].connections >= 1
    assert proxies[1].commands["COMPRESS"] == proxies[1].connections >= 1
    assert_identical(corpus, dovecot_zlib, unique_user)


class _Reconnects(CopyListener):
    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.reasons: list[str] = []

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        self.reasons.append(reason)
        self.proxy.clear()  # one cut is the test; the reconnection goes through


@pytest.mark.parametrize("side", ["source", "destination"])
def test_cut_while_compressed_loses_and_doubles_nothing(
    tmp_path: Path,
    side: str,
    dovecot_zlib: DovecotServer,
    zlib_source: tuple[str, Corpus],
    proxies: tuple[FaultProxy, FaultProxy],
    unique_user: str,
) -> None:
    """The connection is cut 300 kB into the compressed stream: on the source mid-FETCH,
    on the destination mid-APPEND.  The pair reconnects (compressed again) and the copy
    ends identical."""
    src_user, corpus = zlib_source
    proxy = proxies[0] if side == "source" else proxies[1]
    if side == "source":
        proxy.add(Fault(rb"^COMPRESS", Action.CUT_RESPONSE, after_bytes=300_000))
    else:
        proxy.random_cuts = RandomCuts(300_000, 300_001)  # traffic of each connection
    listener = _Reconnects(proxy)
    outcome = _through(new_store(tmp_path), dovecot_zlib, src_user, unique_user, proxies,
                       listener, compress=Compression.ON, connections=1)
    _finished(outcome)
    assert len(listener.reasons) == 1, listener.reasons
    assert proxy.events["cut response" if side == "source" else "random cut"] == 1
    assert proxy.connections == 2 and proxy.commands["COMPRESS"] == 2
    assert outcome.result.total("copied") == corpus.message_count
    assert_identical(corpus, dovecot_zlib, unique_user)


def test_tls_and_compression(
    tmp_path: Path,
    dovecot_zlib: DovecotServer,
    zlib_source: tuple[str, Corpus],
    unique_user: str,
) -> None:
    """Compression over TLS (implicit TLS on the source, STARTTLS on the destination):
    every connection is compressed and the copy is identical."""
    src_user, corpus = zlib_source
    sessions: list[ImapSession] = []

    def connect(acct: Account, **kwargs: Any) -> ImapSession:
        session = open_session(acct, **kwargs)
        sessions.append(session)
        return session

    tls = {"host": CERT_HOSTNAME, "ca_file": str(dovecot_zlib.ca_file)}
    src = account(dovecot_zlib, src_user, port=dovecot_zlib.tls_port, security=Security.TLS,
                  **tls)
    dst = account(dovecot_zlib, unique_user, "destination", security=Security.STARTTLS, **tls)
    store = new_store(tmp_path)
    job = store.create_job(src, dst)
    outcome = run_job(store, job.id, src, dst,
                      CopyOptions(**FAST, send_report=False, compress=Compression.ON),
                      connect=connect)
    _finished(outcome)
    assert len(sessions) >= 2 and all(s.compressed for s in sessions)
    assert {s.account.security for s in sessions} == {Security.TLS, Security.STARTTLS}
    assert_identical(corpus, dovecot_zlib, unique_user)


def test_trace_shows_the_plain_protocol_when_compressed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dovecot_zlib: DovecotServer,
    zlib_source: tuple[str, Corpus],
    unique_user: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """imapcopy sync --compress on --debugimap FILE: after COMPRESS DEFLATE and its OK,
    the trace goes on in readable IMAP (FETCH answers, APPEND commands), not DEFLATE."""
    src_user, corpus = zlib_source
    trace_file = tmp_path / "imap.trace"
    monkeypatch.setenv("IMAPCOPY_PASSWORD1", dovecot_zlib.password)
    monkeypatch.setenv("IMAPCOPY_PASSWORD2", dovecot_zlib.password)
    port = str(dovecot_zlib.plain_port)
    try:
        code = cli.main([
            "sync", "--compress", "on", "--debugimap", str(trace_file), "--folder", "Text",
            "--host1", dovecot_zlib.host, "--port1", port, "--user1", src_user, "--plain1",
            "--host2", dovecot_zlib.host, "--port2", port, "--user2", unique_user, "--plain2",
        ])
    finally:
        trace.stop()
    assert code == 0, capsys.readouterr().err
    lines = trace_file.read_text().splitlines()
    by_connection: dict[str, list[str]] = {}
    for line in lines:
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[2][:2] in ("C:", "S:"):
            by_connection.setdefault(parts[1], []).append(parts[2])
    compressed = {}
    for name, said in by_connection.items():
        start = next(i for i, text in enumerate(said) if text.endswith(" COMPRESS DEFLATE"))
        tag = said[start].split()[1]
        assert said[start + 1].startswith(f"S: {tag} OK"), said[start : start + 2]
        compressed[name] = said[start + 2 :]
    assert {n.split("#")[0] for n in compressed} == {"source", "destination"}
    after = [text for said in compressed.values() for text in said]
    assert any(" UID FETCH " in t and "BODY.PEEK[]" in t for t in after)
    assert any(t.startswith("S: * ") and " FETCH (" in t for t in after)
    assert any(" APPEND " in t for t in after)
    assert any(t.startswith("C: [literal ") and "From: sender" in t for t in after)
    text = [r for r in read_folder_of(dovecot_zlib, unique_user, corpus.name(TEXT_FOLDER))]
    assert text == list(corpus.messages[TEXT_FOLDER])


def read_folder_of(server: DovecotServer, user: str, name: str) -> list[Any]:
    client = server.client(user)
    try:
        return [r for r in read_folder(client, name) if "imapcopy@localhost" not in
                (r.header("From") or "")]
    finally:
        client.logout()


def test_auto_refused_over_a_slow_link_warns_once_and_copies(
    tmp_path: Path, dovecot_zlib: DovecotServer, proxies: tuple[FaultProxy, FaultProxy],
    unique_user: str,
) -> None:
    """Auto, the source 15 ms away: its first connection asks for COMPRESS, which it
    refuses.  The admin is told (as with on), the job goes on uncompressed, and the
    other connections do not ask again."""
    src_user = f"{unique_user}-src"
    client = dovecot_zlib.client(src_user)
    try:
        when = datetime(2020, 2, 29, 23, 59, tzinfo=UTC)
        for number, flags in enumerate([(b"\\Seen",), (b"\\Flagged", b"$Work"), ()]):
            raw = f"Subject: auto {number}\r\n\r\nbody {number}\r\n".encode()
            client.append("INBOX", raw, flags, when + timedelta(days=number))
        expected = read_folder(client, "INBOX")
    finally:
        client.logout()
    proxies[0].delay = 0.015
    proxies[0].add(Fault(rb"^COMPRESS", Action.REPLY, reply=HOSTILE_NO, times=1000))
    outcome = _through(new_store(tmp_path), dovecot_zlib, src_user, unique_user, proxies,
                       compress=Compression.AUTO, connections=2)
    _finished(outcome)
    assert [str(i) for i in outcome.result.issues] == [SOURCE_REFUSED]
    assert proxies[0].commands["COMPRESS"] == 1  # the first connection's; others follow
    assert proxies[1].commands["COMPRESS"] == 0  # the destination's link is fast
    assert outcome.result.total("copied") == 3
    client = dovecot_zlib.client(unique_user)
    try:  # what is really there: the same bytes, flags and dates, nothing more
        assert read_folder(client, "INBOX") == expected and len(expected) == 3
    finally:
        client.logout()
