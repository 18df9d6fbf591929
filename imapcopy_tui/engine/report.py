"""The report mail left in the destination INBOX at the end of a job.

It must read as mail the user expects (they asked for the copy; the guide promises it), not
as an alarm: a calm subject naming the source address and the outcome, then numbers.
"""

from __future__ import annotations

from email.utils import format_datetime, make_msgid

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.progress import CopyResult, human_size


def outcome_text(result: CopyResult) -> str:
    """ "finished" or "finished with N errors": the words the job table uses too."""
    errors = len(result.errors)
    if errors == 0:
        return "finished"
    return f"finished with {errors} error{'s' if errors != 1 else ''}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def report_body(source: Account, destination: Account, result: CopyResult) -> str:
    """The plain-text body: summary, per-folder table, totals, duration, each error."""
    copied = result.total("copied")
    present = result.total("present")
    failed = result.total("failed")
    lines = [
        "Hello,",
        "",
        f"The copy you started of the mailbox {source.login} ({source.host})",
        f"into this mailbox, {destination.login} ({destination.host}), is {outcome_text(result)}.",
        "This message is the report of that copy; there is nothing you need to do"
        + (" unless an error below concerns you." if failed or result.errors else "."),
        "",
        f"  Messages copied:          {copied}",
        f"  Already present, skipped: {present}",
        f"  Not copied (errors):      {failed}",
        f"  Data copied:              {human_size(result.total('bytes_copied'))}",
        f"  Folders:                  {len(result.folders)} "
        f"({sum(1 for f in result.folders if f.created)} created)",
        f"  Duration:                 {_duration(result.duration_seconds)}",
        "",
        "Folder by folder:",
        "",
    ]
    width = max([len("Folder")] + [len(f.display_name) for f in result.folders])
    header = (
        f"  {'Folder':<{width}}  {'state':<8}  {'copied':>7}  {'present':>7}  "
        f"{'failed':>6}  {'size':>9}"
    )
    lines += [header, "  " + "-" * (len(header) - 2)]
    for f in result.folders:
        state = "created" if f.created else "existing"
        lines.append(
            f"  {f.display_name:<{width}}  {state:<8}  {f.copied:>7}  {f.present:>7}  "
            f"{f.failed:>6}  {human_size(f.bytes_copied):>9}"
        )
    lines += [
        "  " + "-" * (len(header) - 2),
        f"  {'Total':<{width}}  {'':<8}  {copied:>7}  {present:>7}  {failed:>6}  "
        f"{human_size(result.total('bytes_copied')):>9}",
    ]
    if result.issues:
        lines += ["", "Details of what was not copied exactly:", ""]
        lines += [f"  - {issue.severity.value}: {issue}" for issue in result.issues]
    lines += [
        "",
        "Running the same copy again is safe: messages already here are recognised and",
        "not copied twice.",
        "",
        "-- ",
        "imapcopy",
        "",
    ]
    return "\n".join(lines)


def build_report(source: Account, destination: Account, result: CopyResult) -> bytes:
    """The whole report message, ready to APPEND."""
    # Imported here: they cost every run 4 ms of start-up, and most runs' report is built
    # once, at the very end (never with --no-report).
    from email.headerregistry import Address
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = Address("imapcopy", "imapcopy", "localhost")
    message["To"] = destination.login
    message["Subject"] = f"Copy of {source.login} {outcome_text(result)}: " + (
        f"{result.total('copied')} messages copied"
    )
    message["Date"] = format_datetime(result.finished_at or result.started_at)
    message["Message-ID"] = make_msgid("report", "imapcopy.localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(report_body(source, destination, result))
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
