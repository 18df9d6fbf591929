"""The ``imapcopy`` command, run as a user runs it: a real process, real servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imapcopy_tui.storage.store import JobState, JobStore
from tests.corpus import Corpus, read_folder
from tests.dovecot import DovecotServer
from tests.helpers import account, assert_identical

pytestmark = pytest.mark.dovecot
ROOT = Path(__file__).parents[2]


def imapcopy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imapcopy_tui", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
    )


def sync_args(src: DovecotServer, src_user: str, dst: DovecotServer, dst_user: str,
              passfile: Path) -> list[str]:
    return [
        "sync",
        "--host1", src.host, "--port1", str(src.plain_port), "--user1", src_user, "--plain1",
        "--passfile1", str(passfile),
        "--host2", dst.host, "--port2", str(dst.plain_port), "--user2", dst_user, "--plain2",
    ]


@pytest.fixture
def passfile(tmp_path: Path, dovecot_src: DovecotServer) -> Path:
    path = tmp_path / "source.pass"
    path.write_text(dovecot_src.password + "\n")
    path.chmod(0o600)
    return path


def test_sync_status_and_jobs(
    tmp_path: Path,
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
    passfile: Path,
) -> None:
    """sync copies everything (exit 0), a second sync copies nothing, status and jobs tell
    the guide's story, and neither password is anywhere in the database."""
    src_user, corpus = corpus_source
    env = {"IMAPCOPY_PASSWORD2": dovecot_dst.password}
    args = sync_args(dovecot_src, src_user, dovecot_dst, unique_user, passfile)
    first = imapcopy(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert f"finished: {corpus.message_count} copied, 0 already present, 0 failed" in first.stdout
    assert "Traceback" not in first.stderr
    assert "Données (created): 2 copied" in first.stderr  # progress, one line per folder
    second = imapcopy(*args, env=env)
    assert second.returncode == 0, second.stderr
    assert f"finished: 0 copied, {corpus.message_count} already present" in second.stdout
    assert_identical(corpus, dovecot_dst, unique_user)

    status = imapcopy("status", src_user)
    assert status.returncode == 0
    assert status.stdout.splitlines()[0] == "The sync of your accounts is finished."
    as_json = json.loads(imapcopy("status", src_user.upper(), "--json").stdout)
    assert as_json["state"] == "finished" and as_json["messages_present"] == corpus.message_count
    jobs = json.loads(imapcopy("jobs", "--json").stdout)
    assert [j["state"] for j in jobs] == ["finished", "finished"]
    assert imapcopy("status", "nobody@example.org").returncode == 7

    database = Path(os.environ["IMAPCOPY_DB"])
    for file in database.parent.glob(database.name + "*"):
        data = file.read_bytes()
        assert dovecot_src.password.encode() not in data
        assert dovecot_dst.password.encode() not in data


def test_second_sync_while_one_runs_is_refused(
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    unique_user: str,
    make_user: object,
    passfile: Path,
) -> None:
    """The guide's refusal: a general message, then the precise reason; nothing created."""
    store = JobStore(Path(os.environ["IMAPCOPY_DB"]))
    running = store.create_job(account(dovecot_src, unique_user),
                               account(dovecot_dst, unique_user, "destination"))
    store.start(running.id)  # this test process is the (live) runner
    other_destination = unique_user + "-other"
    refused = imapcopy(*sync_args(dovecot_src, unique_user, dovecot_dst, other_destination,
                                  passfile), env={"IMAPCOPY_PASSWORD2": dovecot_dst.password})
    assert refused.returncode == 5
    assert refused.stderr.strip() == (
        "imapcopy: an error occurred while starting the sync: "
        f"a sync task for this account already exists (job {running.id}, running); "
        "see imapcopy status or imapcopy jobs"
    )
    assert [j.id for j in store.jobs()] == [running.id]
    assert store.get(running.id).state is JobState.RUNNING


@pytest.mark.parametrize("dry_run", [False, True], ids=["sync", "dry-run"])
def test_a_sync_into_the_source_itself_is_refused_and_writes_nothing(
    dovecot_src: DovecotServer,
    corpus_source: tuple[str, Corpus],
    passfile: Path,
    dry_run: bool,
) -> None:
    """The same account on both sides (the login written in another case): refused before
    any connection, exit 2, one line; the source keeps exactly its mail (no report in its
    INBOX) and no job is recorded."""
    src_user, corpus = corpus_source
    client = dovecot_src.client(src_user)
    before = {p: read_folder(client, corpus.name(p)) for p in corpus.messages}
    client.logout()
    args = sync_args(dovecot_src, src_user, dovecot_src, src_user.upper(), passfile)
    refused = imapcopy(*args, *(["--dry-run"] if dry_run else []),
                       env={"IMAPCOPY_PASSWORD2": dovecot_src.password})
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip() == (
        "imapcopy: error: the source and the destination are the same account "
        f"({src_user} on {dovecot_src.host}:{dovecot_src.plain_port}): a copy would write "
        "into the source; check the destination's login and server"
    )
    client = dovecot_src.client(src_user)
    after = {p: read_folder(client, corpus.name(p)) for p in corpus.messages}
    client.logout()
    assert after == before
    assert JobStore(Path(os.environ["IMAPCOPY_DB"])).jobs(src_user) == []


@pytest.mark.parametrize(
    ("extra", "env", "code", "words"),
    [
        (["--password1", "hunter2"], {}, 2, "--password1 is refused"),
        ([], {"IMAPCOPY_PASSWORD2": ""}, 2, "no password for the destination account"),
        (["--port1", "99999"], {}, 2, "port 99999 is not between 1 and 65535"),
        (["--host1", "bad host"], {}, 2, "contains spaces"),
        (["--preset1", "nosuchprovider"], {}, 2, "unknown preset"),
        ([], {"IMAPCOPY_PASSWORD2": "wrong"}, 4, "destination account"),
    ],
    ids=["password-in-argv", "no-password", "port", "host", "preset", "wrong-password"],
)
def test_bad_input_is_one_clear_line(
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    unique_user: str,
    passfile: Path,
    extra: list[str],
    env: dict[str, str],
    code: int,
    words: str,
) -> None:
    """Each mistake: its exit code and one line on stderr, no traceback."""
    args = sync_args(dovecot_src, unique_user, dovecot_dst, unique_user, passfile)
    run = imapcopy(*args, *extra, env={"IMAPCOPY_PASSWORD2": dovecot_dst.password, **env})
    assert run.returncode == code, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], run.stderr
    assert "Traceback" not in run.stderr


def test_dry_run_prints_the_plan_and_changes_nothing(
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
    passfile: Path,
) -> None:
    """--dry-run: folders to create, messages and bytes to copy; the destination is empty."""
    src_user, corpus = corpus_source
    run = imapcopy(*sync_args(dovecot_src, src_user, dovecot_dst, unique_user, passfile),
                   "--dry-run", env={"IMAPCOPY_PASSWORD2": dovecot_dst.password})
    assert run.returncode == 0, run.stderr
    assert f"Total: {corpus.message_count} messages to copy" in run.stdout
    assert "Archive/2019/Q1 -> Archive/2019/Q1 (create): 2 to copy" in run.stdout
    # The live lines say what a copy would do, never that it was done.
    assert "Archive/2019/Q1 (to create): 2 to copy, 0 already there" in run.stderr.splitlines()
    assert "copied" not in run.stderr and "created)" not in run.stderr
    client = dovecot_dst.client(unique_user)
    assert {n for *_, n in client.list_folders()} == {"INBOX"}
    client.logout()
    assert imapcopy("jobs", "--json").stdout.strip() == "[]"


def test_connection_test_shows_two_steps(dovecot_src: DovecotServer, passfile: Path) -> None:
    """imapcopy test: the guide's two steps, in order."""
    run = imapcopy("test", "--host1", dovecot_src.host, "--port1", str(dovecot_src.plain_port),
                   "--plain1", "--user1", "alice", "--passfile1", str(passfile))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "Testing the connection to the source account alice...",
        "The connection to the source account is established.",
    ]


def test_destination_preset_size_limit_sets_large_messages_aside(
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
    passfile: Path,
) -> None:
    """A destination preset with ``max_message_mb = 1``: the 3.1 MB message is listed,
    not sent; ``--maxsize`` wins over the preset."""
    src_user, corpus = corpus_source
    presets = Path(os.environ["XDG_CONFIG_HOME"]) / "imapcopy" / "presets.toml"
    presets.parent.mkdir(parents=True, exist_ok=True)
    presets.write_text(
        f'[small]\nname = "Small"\nhost = "{dovecot_dst.host}"\n'
        f'port = {dovecot_dst.plain_port}\nsecurity = "plain"\nmax_message_mb = 1\n'
    )
    args = [
        "sync", "--no-report",
        "--host1", dovecot_src.host, "--port1", str(dovecot_src.plain_port), "--plain1",
        "--user1", src_user, "--passfile1", str(passfile),
        "--preset2", "small", "--user2", unique_user,
    ]
    env = {"IMAPCOPY_PASSWORD2": dovecot_dst.password}
    run = imapcopy(*args, "--dry-run", env=env)
    assert run.returncode == 1, run.stderr  # finished with an error: the large message
    assert "too large for the destination (3.1 MiB; it takes at most 976.6 KiB)" in run.stderr
    run = imapcopy(*args, "--dry-run", "--maxsize", "5M", env=env)
    assert run.returncode == 0, run.stderr
    assert "too large" not in run.stderr


def test_many_errors_are_repeated_under_the_summary_only_up_to_ten(
    dovecot_src: DovecotServer,
    dovecot_dst: DovecotServer,
    corpus_source: tuple[str, Corpus],
    unique_user: str,
    passfile: Path,
) -> None:
    """Each error is printed as it happens; the summary repeats the first ten and counts
    the rest, which the status lookup lists in full (a destination refusing thousands of
    messages used to print every refusal twice)."""
    src_user, corpus = corpus_source
    assert corpus.message_count > 10
    args = sync_args(dovecot_src, src_user, dovecot_dst, unique_user, passfile)
    run = imapcopy(*args, "--maxsize", "1", "--no-report",
                   env={"IMAPCOPY_PASSWORD2": dovecot_dst.password})
    assert run.returncode == 1, run.stderr  # finished with errors
    lines = run.stderr.splitlines()
    live = [line for line in lines if line.startswith("error: ")]
    repeated = [line for line in lines if line.startswith("  error: ")]
    assert len(live) == corpus.message_count
    assert all("too large for the destination" in line for line in live)
    # The same lines (in the order the job recorded them, which two pairs may interleave).
    assert len(repeated) == 10
    assert {line.removeprefix("  ") for line in repeated} <= set(live)
    assert lines[-1] == (
        f"  ... and {corpus.message_count - 10} more errors, printed above; "
        f"imapcopy status {src_user} lists them all"
    )
    status = imapcopy("status", src_user)
    listed = [line for line in status.stdout.splitlines() if line.startswith("- ")]
    assert len(listed) == corpus.message_count
