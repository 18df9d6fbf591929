"""The ``imapcopy`` command: the headless twin of the app.

``imapcopy`` alone opens the terminal app; ``imapcopy sync`` copies in the foreground with
a progress line; ``imapcopy test`` checks the connections; ``imapcopy status ADDRESS`` and
``imapcopy jobs`` read the job table.  Connection options carry imapsync's names so that
existing scripts carry over.  Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import ipaddress
import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from enum import IntEnum
from pathlib import Path

from imapcopy_tui import __version__
from imapcopy_tui.engine import trace
from imapcopy_tui.engine.account import (
    Account,
    AuthMethod,
    Security,
    check_host,
    check_port,
)
from imapcopy_tui.engine.options import DEFAULT_CONNECTIONS, FAST_LINK_CONNECTIONS, CopyOptions
from imapcopy_tui.engine.progress import CopyIssue
from imapcopy_tui.engine.session import Compression, ConnectStep, Timeouts, test_connection
from imapcopy_tui.engine.special import GmailViews, MappingRules
from imapcopy_tui.errors import (
    AuthError,
    ConfigError,
    ConnectError,
    ImapCopyError,
    JobExistsError,
    JobNotFoundError,
    StorageError,
    UsageError,
)
from imapcopy_tui.locations import default_db_path
from imapcopy_tui.storage.store import Job, JobState, JobStore


class ExitCode(IntEnum):
    OK = 0
    FINISHED_WITH_ERRORS = 1
    USAGE = 2
    CONNECTION = 3
    AUTH = 4
    REFUSED = 5  # a job for this account is already queued or running
    FAILED = 6
    NOT_FOUND = 7
    INTERRUPTED = 130


SIDES = {"1": "source", "2": "destination"}


# --authmech values (imapsync's names) and the sign-in each one means.
AUTHMECHS = {
    "LOGIN": AuthMethod.PASSWORD,
    "PLAIN": AuthMethod.PLAIN,
    "XOAUTH2": AuthMethod.XOAUTH2,
    "OAUTHBEARER": AuthMethod.OAUTHBEARER,
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as our one-line error and exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            # Never echo values: a mistyped "--passw=secret" or "--pass secret" would put
            # the password on the screen and into logs.
            names = [t.split("=", 1)[0] for t in message[len(prefix) :].split() if t[:1] == "-"]
            message = "unknown option(s): " + (", ".join(names) or "(values not shown)")
        raise UsageError(message)


def _add_account_options(parser: argparse.ArgumentParser, n: str) -> None:
    side = SIDES[n]
    group = parser.add_argument_group(f"{side} account ({n})")
    group.add_argument(
        f"--preset{n}", metavar="NAME", help="host, port and security from presets.toml"
    )
    group.add_argument(f"--host{n}", metavar="HOST", help=f"IMAP server of the {side}")
    # A string, checked with the account: argparse's "invalid int value" names no account.
    group.add_argument(f"--port{n}", metavar="PORT", help="default: 993 with TLS, 143 otherwise")
    group.add_argument(f"--user{n}", metavar="LOGIN", help="login, usually the full address")
    group.add_argument(
        f"--passfile{n}",
        metavar="FILE",
        help=f"file whose first line is the password (or set IMAPCOPY_PASSWORD{n}; else asked)",
    )
    group.add_argument(
        f"--authmech{n}",
        type=str.upper,
        choices=list(AUTHMECHS),
        metavar="MECH",
        help="LOGIN (default; PLAIN for a non-ASCII password), PLAIN, XOAUTH2 or OAUTHBEARER "
        "(OAuth2: with a token file or command, no password)",
    )
    token = group.add_mutually_exclusive_group()
    token.add_argument(
        f"--oauthaccesstoken{n}",
        metavar="FILE",
        help="OAuth2: file whose first line is the access token, read again at every "
        "connection (not the token itself)",
    )
    token.add_argument(
        f"--oauthcommand{n}",
        metavar="CMD",
        help="OAuth2: shell command printing the access token, run at every connection",
    )
    security = group.add_mutually_exclusive_group()
    security.add_argument(
        f"--ssl{n}",
        dest=f"security{n}",
        action="store_const",
        const=Security.TLS,
        help="implicit TLS (default)",
    )
    security.add_argument(
        f"--tls{n}",
        dest=f"security{n}",
        action="store_const",
        const=Security.STARTTLS,
        help="STARTTLS",
    )
    security.add_argument(
        f"--plain{n}",
        dest=f"security{n}",
        action="store_const",
        const=Security.PLAIN,
        help="no encryption (unsafe: the password travels in clear)",
    )
    group.add_argument(
        f"--cafile{n}", metavar="FILE", help="trust the certificates signed by this CA file"
    )
    group.add_argument(
        f"--insecure{n}", action="store_true", help="do not check the server's certificate (unsafe)"
    )
    # imapsync's --password1 puts the password in argv, where `ps` shows it: refused.
    group.add_argument(f"--password{n}", help=argparse.SUPPRESS)


def _add_trace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debugimap",
        type=Path,
        metavar="FILE",
        help="write the IMAP conversation of both accounts to FILE (0600; logins hidden, "
        "messages shortened)",
    )


def _size_argument(text: str) -> int:
    """``25M``, ``512K``, ``1G`` or a number of bytes."""
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
    cleaned = text.strip().upper().removesuffix("B")
    number, unit = cleaned.rstrip("KMG"), cleaned[len(cleaned.rstrip("KMG")) :]
    if not number.isdigit() or unit not in units or int(number) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 25M, 512K or 1000000")
    return int(number) * units[unit]


MAX_TIMEOUT_SECONDS = 24 * 3600
# Errors repeated under the final summary; the rest are counted (see _print_errors).
SUMMARY_ERRORS = 10


def _seconds_argument(text: str) -> float:
    """A number of seconds above 0 (a day at most): 0, a negative number or nan would
    make every read fail at once or never end."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS}, "
            "like 60"
        )
    return seconds


def build_parser() -> argparse.ArgumentParser:
    # No abbreviations: argparse would echo a mistyped "--passw=secret" in its error.
    parser = _Parser(
        prog="imapcopy",
        description="Copy every message of one IMAP mailbox into another.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"imapcopy {__version__}")
    parser.add_argument(
        "--db", type=Path, help="job database (default: $IMAPCOPY_DB or the data directory)"
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    sync = sub.add_parser(
        "sync",
        allow_abbrev=False,
        help="copy the source mailbox into the destination, in the foreground",
    )
    for n in SIDES:
        _add_account_options(sync, n)
    sync.add_argument(
        "--dry-run", "--dry", action="store_true", help="show what would be copied; change nothing"
    )
    sync.add_argument(
        "--folder",
        action="append",
        default=[],
        metavar="PATTERN",
        help="copy only this folder, or those matching this glob (repeatable), e.g. "
        "'[Gmail]/Sent Mail' or 'Archive/*'",
    )
    sync.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="skip folders matching this glob (repeatable)",
    )
    sync.add_argument(
        "--no-report",
        action="store_true",
        help="do not leave a report message in the destination INBOX",
    )
    sync.add_argument(
        "--timeout",
        type=_seconds_argument,
        default=Timeouts.read,
        metavar="SECONDS",
        help="seconds to wait for a server answer (default %(default)s)",
    )
    sync.add_argument(
        "--connections",
        type=int,
        default=None,
        metavar="N",
        help=f"connection pairs copying folders in parallel (default {DEFAULT_CONNECTIONS}, "
        f"{FAST_LINK_CONNECTIONS} when both servers answer within 10 ms, or a preset's lower "
        "limit; N overrides the preset's limit)",
    )
    sync.add_argument(
        "--max-reconnects",
        type=int,
        default=CopyOptions.max_reconnects,
        metavar="N",
        help="reconnections after a lost connection before giving up (default %(default)s)",
    )
    sync.add_argument(
        "--f1f2",
        "--map",
        dest="renames",
        action="append",
        default=[],
        metavar="SRC=DST",
        help="copy source folder SRC (and its subfolders) into DST (repeatable); "
        "wins over the special-folder mapping",
    )
    sync.add_argument(
        "--no-automap",
        action="store_true",
        help="do not map Sent, Drafts, Trash, Junk, Archive to the destination's own folders",
    )
    sync.add_argument(
        "--gmail-all-mail",
        choices=[v.value for v in GmailViews],
        default=GmailViews.SKIP.value,
        help="Gmail source: 'skip' copies the label folders and not All Mail (default), "
        "'unlabelled' adds All Mail's messages that no label holds (into Archive), "
        "'instead' copies All Mail (plus Trash and Spam) and not the labels",
    )
    sync.add_argument(
        "--maxsize",
        type=_size_argument,
        default=None,
        metavar="SIZE",
        help="do not send messages larger than SIZE (e.g. 25M); they are listed in the "
        "report (default: the destination's APPENDLIMIT, else the preset's limit)",
    )
    sync.add_argument(
        "--maxbytespersecond",
        type=_size_argument,
        default=None,
        metavar="SIZE",
        help="send at most SIZE per second on average, all connections together "
        "(e.g. 500K; for providers that limit upload volume)",
    )
    sync.add_argument(
        "--compress",
        choices=[c.value for c in Compression],
        default=Compression.AUTO.value,
        help="compress the connections (COMPRESS=DEFLATE) where the server offers it: auto "
        "over a slow link only (a round trip of 10 ms or more), on always, off never "
        "(default %(default)s)",
    )
    _add_trace_option(sync)
    sync.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    check = sub.add_parser(
        "test",
        allow_abbrev=False,
        help="test the connection to one or both accounts (like --justconnect)",
    )
    for n in SIDES:
        _add_account_options(check, n)
    _add_trace_option(check)

    status = sub.add_parser(
        "status", allow_abbrev=False, help="state of the latest sync of a source address"
    )
    status.add_argument("address", help="the source login or address")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    jobs = sub.add_parser("jobs", allow_abbrev=False, help="list every sync task")
    jobs.add_argument("--json", action="store_true", help="machine-readable output")
    jobs.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


# --- accounts --------------------------------------------------------------------------


def _read_password(args: argparse.Namespace, n: str, login: str) -> str:
    side = SIDES[n]
    passfile = getattr(args, f"passfile{n}")
    if passfile:
        try:
            with open(passfile, encoding="utf-8") as handle:
                first = handle.readline()
        except OSError as exc:
            raise UsageError(
                f"cannot read the {side} password file {passfile}: {exc.strerror}"
            ) from exc
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"the {side} password file {passfile} is not UTF-8 text; write the password "
                "in it as UTF-8"
            ) from exc
        password = first.rstrip("\r\n")
        if not password:
            raise UsageError(f"the {side} password file {passfile} is empty")
        return password
    from_env = os.environ.get(f"IMAPCOPY_PASSWORD{n}")
    if from_env:
        return from_env
    if sys.stdin.isatty():
        try:
            password = getpass.getpass(f"Password of the {side} account {login}: ")
        except EOFError:  # Ctrl+D at the prompt
            password = ""
        if password:
            return password
        raise UsageError(
            f"no password was typed for the {side} account {login}; type it at the prompt, "
            f"or give --passfile{n} or IMAPCOPY_PASSWORD{n}"
        )
    raise UsageError(
        f"no password for the {side} account {login}: give --passfile{n}, set "
        f"IMAPCOPY_PASSWORD{n}, or run in a terminal to be asked"
    )


def _is_loopback(host: str) -> bool:
    """Plain text never leaves this machine on loopback, so no warning is needed there."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def account_from_args(args: argparse.Namespace, n: str) -> Account:
    """Build one side's account from the options, a preset filling what is not given."""
    side = SIDES[n]
    if getattr(args, f"password{n}") is not None:
        raise UsageError(
            f"--password{n} is refused: a password on the command line is visible to every "
            f"user of this machine; use --passfile{n}, IMAPCOPY_PASSWORD{n} or the prompt"
        )
    host, port, security = None, None, None
    preset = None
    preset_name = getattr(args, f"preset{n}")
    if preset_name:
        from imapcopy_tui.config.presets import load_presets

        preset = load_presets().get(preset_name)
        host, port, security = preset.host or None, preset.port, Security(preset.security)
    given_host = getattr(args, f"host{n}")
    host = given_host if given_host and given_host.strip() else host
    if not host:
        raise UsageError(f"the {side} server is missing: give --host{n} or --preset{n}")
    host = check_host(host, side)
    login = getattr(args, f"user{n}")
    if not login:
        raise UsageError(f"the {side} login is missing: give --user{n}")
    chosen = getattr(args, f"security{n}")
    if chosen is not None and chosen is not security:
        port = None  # the preset's port belongs to the preset's security
    security = chosen or security or Security.TLS
    given_port = getattr(args, f"port{n}")
    if given_port is not None and given_port.strip():
        port = check_port(given_port, side)
    port = port or security.default_port
    auth, token_file, token_command = _sign_in(args, n)
    if preset is not None and preset.auth == ("oauth2",) and not auth.uses_token:
        print(
            f"imapcopy: warning: {preset.name} signs in with OAuth2 only, passwords are "
            f"refused: give --oauthcommand{n} CMD or --oauthaccesstoken{n} FILE",
            file=sys.stderr,
        )
    insecure = bool(getattr(args, f"insecure{n}"))
    if insecure:
        print(
            f"imapcopy: warning: the certificate of the {side} server {host} is not checked; "
            "someone on the network could read the password or token",
            file=sys.stderr,
        )
    if security is Security.PLAIN and not _is_loopback(host):
        print(
            f"imapcopy: warning: the {side} connection to {host} is not encrypted",
            file=sys.stderr,
        )
    return Account(
        host=host,
        port=port,
        login=login,
        password="" if auth.uses_token else _read_password(args, n, login),
        security=security,
        ca_file=getattr(args, f"cafile{n}"),
        verify_certificate=not insecure,
        role=side,
        auth=auth,
        token_file=token_file,
        token_command=token_command,
    )


def _sign_in(args: argparse.Namespace, n: str) -> tuple[AuthMethod, str | None, str | None]:
    """The sign-in method and token source of one side: a token source alone means OAuth2
    (XOAUTH2 when the server offers it, as imapsync does, else OAUTHBEARER)."""
    side = SIDES[n]
    token_file = getattr(args, f"oauthaccesstoken{n}")
    token_command = getattr(args, f"oauthcommand{n}")
    if token_file is not None:
        # imapsync also takes the token itself here: refused, like --password, and never
        # echoed, since that may be what was given.
        path = os.path.abspath(os.path.expanduser(token_file))
        if not os.path.isfile(path):
            raise UsageError(
                f"--oauthaccesstoken{n} takes a file whose first line is the {side} access "
                "token, and no such file exists (a token on the command line would be "
                "visible to every user of this machine)"
            )
        token_file = path
    if token_command is not None and not token_command.strip():
        raise UsageError(f"--oauthcommand{n} is empty: give the command that prints the token")
    mech = getattr(args, f"authmech{n}")
    has_token = token_file is not None or token_command is not None
    if mech is None:
        auth = AuthMethod.OAUTH2 if has_token else AuthMethod.PASSWORD
    else:
        auth = AUTHMECHS[mech]
    if auth.uses_token and not has_token:
        raise UsageError(
            f"--authmech{n} {mech} signs in with an OAuth2 access token: give "
            f"--oauthaccesstoken{n} FILE or --oauthcommand{n} CMD"
        )
    if has_token and not auth.uses_token:
        raise UsageError(
            f"--authmech{n} {mech} signs in with a password; --oauthaccesstoken{n} and "
            f"--oauthcommand{n} go with XOAUTH2 or OAUTHBEARER"
        )
    if auth.uses_token and getattr(args, f"passfile{n}"):
        # Said rather than ignored: the user may believe the password is what signs in.
        raise UsageError(
            f"--passfile{n} gives a password, but the {side} account signs in with an OAuth2 "
            f"access token (--oauthaccesstoken{n} or --oauthcommand{n}): give one or the other"
        )
    return auth, token_file, token_command


# --- commands --------------------------------------------------------------------------


def _store(args: argparse.Namespace) -> JobStore:
    return JobStore(args.db or default_db_path())


def _lookup_store(args: argparse.Namespace) -> JobStore | None:
    """The job database for a lookup, or None when there is none yet: a lookup (perhaps
    of a mistyped --db) creates no file."""
    path = args.db or default_db_path()
    try:
        existing = next(p for p in (path, *path.parents) if p.exists())
    except OSError as exc:  # a directory on the way that we may not look into
        raise StorageError(
            f"the job database {path} cannot be read ({exc.strerror or exc}); check the "
            "permissions of its directories, or choose another file with --db or IMAPCOPY_DB"
        ) from exc
    if existing != path and existing.is_dir():
        return None
    return JobStore(path)  # the file, or the error saying why it cannot be there


def _say_step(messages: dict[ConnectStep, str], step: ConnectStep) -> None:
    print(messages[step], flush=True)


def cmd_test(args: argparse.Namespace) -> ExitCode:
    sides = [
        n for n in SIDES
        if getattr(args, f"host{n}") is not None or getattr(args, f"preset{n}")
    ]
    if not sides:
        raise UsageError("nothing to test: give --host1/--preset1 and/or --host2/--preset2")
    # Both sides are checked before either connects: a typo in --port2 is not found
    # only after the source's connection test.
    accounts = [account_from_args(args, n) for n in sides]
    for account in accounts:
        messages = {
            ConnectStep.CONNECTING: (
                f"Testing the connection to the {account.role} account {account.login}..."
            ),
            ConnectStep.AUTHENTICATED: (
                f"The connection to the {account.role} account is established."
            ),
        }
        test_connection(account, on_step=functools.partial(_say_step, messages))
    return ExitCode.OK


def _folder_rules(args: argparse.Namespace) -> MappingRules:
    try:
        renames = tuple(MappingRules.parse_rename(rule) for rule in args.renames)
    except ValueError as error:
        raise UsageError(f"--f1f2: {error}") from None
    return MappingRules(
        special=not args.no_automap,
        renames=renames,
        gmail_all_mail=GmailViews(args.gmail_all_mail),
    )


def _preset_size_limit(args: argparse.Namespace) -> int | None:
    """The destination provider's message-size limit, when its preset names one."""
    if not args.preset2:
        return None
    from imapcopy_tui.config.presets import load_presets

    return load_presets().get(args.preset2).max_message_bytes


def _connections(args: argparse.Namespace) -> tuple[int | None, int | None]:
    """Parallel pairs, and the providers' limit (Gmail allows about 15 connections per
    account): what the user asked for (a warning when above the limit), else None, the
    engine's choice, which stays within the limit."""
    if args.connections is not None and args.connections < 1:
        raise UsageError("--connections must be at least 1")
    limits = []
    for n in SIDES:
        name = getattr(args, f"preset{n}")
        if name:
            from imapcopy_tui.config.presets import load_presets

            limit = load_presets().get(name).max_connections
            if limit:
                limits.append(limit)
    limit = min(limits, default=None)
    if limit is not None and args.connections is not None and args.connections > limit:
        print(
            f"imapcopy: warning: --connections {args.connections} is above the provider's "
            f"limit of {limit}; it may refuse the extra connections",
            file=sys.stderr,
        )
    return args.connections, limit


def cmd_sync(args: argparse.Namespace) -> ExitCode:
    from imapcopy_tui.console import ProgressLine
    from imapcopy_tui.engine.budget import quiet_garbage_collector
    from imapcopy_tui.engine.copier import Copier
    from imapcopy_tui.engine.ledger import MemoryLedger
    from imapcopy_tui.engine.report import outcome_text
    from imapcopy_tui.runner import run_job

    quiet_garbage_collector()
    source = account_from_args(args, "1")
    destination = account_from_args(args, "2")
    connections, connection_limit = _connections(args)
    options = CopyOptions(
        dry_run=args.dry_run,
        send_report=not args.no_report,
        include=tuple(args.folder),
        exclude=tuple(args.exclude),
        max_reconnects=args.max_reconnects,
        connections=connections,
        connection_limit=connection_limit,
        timeouts=Timeouts(read=args.timeout),
        max_message_bytes=args.maxsize or _preset_size_limit(args),
        max_bytes_per_second=args.maxbytespersecond,
        folder_rules=_folder_rules(args),
        compress=Compression(args.compress),
    )
    progress = ProgressLine(dry_run=args.dry_run)
    if args.dry_run:
        # A dry run needs no job: it changes nothing and must not block a real sync.
        result = Copier(source, destination, MemoryLedger(), progress, options).run()
        progress.finish()
        print("Dry run: nothing was changed. The copy would do this:")
        for f in result.folders:
            action = "create" if f.created else "existing"
            if f.note:
                action += f"; {f.note}"
            print(
                f"  {f.display_name} -> {f.destination_name} ({action}): "
                f"{f.copied} to copy, {f.present} already there"
            )
        from imapcopy_tui.status import human_size

        print(
            f"Total: {result.total('copied')} messages to copy "
            f"({human_size(result.total('bytes_copied'))}), "
            f"{result.total('present')} already there, "
            f"{sum(f.created for f in result.folders)} folders to create."
        )
        _print_errors(result.errors, None)  # no job: nothing to look up later
        return ExitCode.FINISHED_WITH_ERRORS if result.errors else ExitCode.OK

    store = _store(args)
    job = store.create_job(source, destination)
    # SIGTERM (the app's Stop, a service manager, kill) stops the copy as Ctrl+C does:
    # connections cut, the job recorded interrupted, resumable.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        outcome = run_job(store, job.id, source, destination, options, listener=progress)
    except KeyboardInterrupt:
        progress.finish()
        print(
            f"\nimapcopy: interrupted; job {job.id} stopped, run the same command again to "
            "resume it",
            file=sys.stderr,
        )
        return ExitCode.INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)  # a caller in this process keeps its own
    progress.finish()
    result = outcome.result
    if outcome.state in (JobState.FINISHED, JobState.FINISHED_WITH_ERRORS):
        print(
            f"Job {job.id} {outcome_text(result)}: {result.total('copied')} copied, "
            f"{result.total('present')} already present, {result.total('failed')} failed, "
            f"in {result.duration_seconds:.0f} s."
        )
        _print_errors(result.errors, source.login)
        return ExitCode.OK if outcome.state is JobState.FINISHED else ExitCode.FINISHED_WITH_ERRORS
    if outcome.error is not None:
        raise outcome.error
    raise ImapCopyError(f"job {job.id} {outcome.state.value}: {outcome.failure}")


def _print_errors(errors: Sequence[CopyIssue], source_login: str | None) -> None:
    """The errors again under the summary, where they are not lost in the progress lines;
    past :data:`SUMMARY_ERRORS` only how many more (each was printed as it happened, and
    a destination refusing thousands of messages would print them all twice)."""
    for issue in errors[:SUMMARY_ERRORS]:
        print(f"  error: {one_line(str(issue))}", file=sys.stderr)
    if len(errors) > SUMMARY_ERRORS:
        lookup = ""
        if source_login is not None:
            lookup = f"; imapcopy status {one_line(source_login)} lists them all"
        print(
            f"  ... and {len(errors) - SUMMARY_ERRORS} more errors, printed above{lookup}",
            file=sys.stderr,
        )


def _job_json(job: Job) -> dict[str, object]:
    from imapcopy_tui.status import describe

    data = asdict(job)
    data["state"] = job.state.value
    later = job.taken_over_by
    data["taken_over_by"] = None if later is None else {"id": later.id, "state": later.state.value}
    data["message"] = describe(job).headline
    return data


def cmd_status(args: argparse.Namespace) -> ExitCode:
    from imapcopy_tui.status import describe

    store = _lookup_store(args)
    try:
        if store is None:
            raise JobNotFoundError(f"no sync task for {args.address}")
        job = store.latest_for_source(args.address)
    except JobNotFoundError:
        if args.json:
            print(
                json.dumps(
                    {
                        "address": args.address,
                        "state": None,
                        "message": "no sync task for this address",
                    }
                )
            )
        else:
            print(f"There is no sync task for {args.address}.")
        return ExitCode.NOT_FOUND
    if args.json:
        print(json.dumps(_job_json(job), indent=2))
    else:
        print(describe(job))
    return ExitCode.OK


def cmd_jobs(args: argparse.Namespace) -> ExitCode:
    from imapcopy_tui.status import describe, human_size

    store = _lookup_store(args)
    jobs = store.jobs() if store is not None else []
    if args.json:
        print(json.dumps([_job_json(j) for j in jobs], indent=2))
        return ExitCode.OK
    if not jobs:
        print("No sync task yet.")
        return ExitCode.OK
    print(
        f"{'id':>4}  {'state':<20}  {'source':<30}  {'destination':<30}  "
        f"{'copied':>7}  {'size':>9}  started"
    )
    for j in jobs:
        print(
            f"{j.id:>4}  {j.state.value:<20}  {j.source_login[:30]:<30}  "
            f"{j.destination_login[:30]:<30}  {j.messages_copied:>7}  "
            f"{human_size(j.bytes_copied):>9}  {j.started_at or '-'}"
        )
    # An interrupted or failed job's state alone reads as "start it again": under the
    # table, which later job already did.
    for j in jobs:
        if j.taken_over_by is not None:
            print(f"Job {j.id}: {one_line(describe(j).headline)}")
    return ExitCode.OK


def _launch_app(db_path: Path | None) -> ExitCode:
    try:
        from imapcopy_tui.tui.app import run_app  # imported only to launch the app
    except ImportError:
        build_parser().print_help()
        return ExitCode.OK
    return ExitCode(run_app(db_path))


@contextmanager
def _imap_trace(args: argparse.Namespace) -> Iterator[None]:
    """The --debugimap trace, on while the command runs."""
    path = getattr(args, "debugimap", None)
    if path is None:
        yield
        return
    try:
        trace.start(path)
    except OSError as exc:
        raise UsageError(f"cannot write the IMAP trace file {path}: {exc.strerror or exc}") from exc
    try:
        yield
    finally:
        trace.stop()


COMMANDS = {"sync": cmd_sync, "test": cmd_test, "status": cmd_status, "jobs": cmd_jobs}


def _exit_code(error: ImapCopyError) -> ExitCode:
    if isinstance(error, AuthError):
        return ExitCode.AUTH
    if isinstance(error, ConnectError):
        return ExitCode.CONNECTION
    if isinstance(error, UsageError | ConfigError):
        return ExitCode.USAGE
    if isinstance(error, JobExistsError):
        return ExitCode.REFUSED
    return ExitCode.FAILED


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters written as escapes.

    Messages quote files and servers: a value in a presets file or a hostile server's
    greeting must neither break the one-line error nor send escape codes to the terminal.
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``imapcopy`` command; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return _launch_app(args.db)
        with _imap_trace(args):
            return COMMANDS[args.command](args)
    except JobExistsError as error:
        print(
            f"imapcopy: an error occurred while starting the sync: {one_line(str(error))}; "
            "see imapcopy status or imapcopy jobs",
            file=sys.stderr,
        )
        return ExitCode.REFUSED
    except ImapCopyError as error:
        print(f"imapcopy: error: {one_line(str(error))}", file=sys.stderr)
        return _exit_code(error)
    except KeyboardInterrupt:
        print("\nimapcopy: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        if os.environ.get("IMAPCOPY_DEBUG"):
            raise
        # The type only: the text of an unexpected error could quote a secret.
        print(
            f"imapcopy: internal error ({type(error).__name__}); "
            "set IMAPCOPY_DEBUG=1 to see the details",
            file=sys.stderr,
        )
        return ExitCode.FAILED
