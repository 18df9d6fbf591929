"""When is a destination message "the same" as a source message?

The rule (also in the README): two messages are the same when their header sections are
identical, line for line, and their total sizes are equal.  Line ends, header folding and
blank lines are normalised, and ``X-TUID`` lines (added by mbsync) are ignored, their bytes
taken off the size too, so that mail copied earlier by that tool is recognised.

This recognises mail put there by an earlier job or an earlier tool that copied bytes
faithfully (imapsync, doveadm, a previous run of ours), keeps apart two distinct messages
that share a Message-ID (their Received, Date or Subject lines differ, or their sizes),
and lets exact duplicates inside one folder stay duplicates: the copier matches
fingerprints as a multiset, the n-th copy on the source with the n-th on the destination.

The header section may come from ``BODY.PEEK[HEADER]`` or be cut from the whole message
with :func:`header_section`: both give the same fingerprint, so a message copied without
a separate header fetch is still recognised later.
"""

from __future__ import annotations

import hashlib
import re

_IGNORED_HEADER = re.compile(rb"^x-tuid:", re.IGNORECASE)
_END_OF_HEADER = re.compile(rb"\r?\n\r?\n")


def header_section(message: bytes) -> bytes:
    """The header section of a whole message: up to its first blank line (all of it if none)."""
    for empty_header in (b"\r\n", b"\n"):  # the blank line comes first: no header at all
        if message.startswith(empty_header):
            return empty_header
    end = _END_OF_HEADER.search(message)
    return message if end is None else message[: end.end()]


def _header_lines(header: bytes) -> tuple[list[bytes], int]:
    """Logical header lines (continuations unfolded, blanks dropped), and the raw byte
    count of the ignored ones."""
    lines: list[bytes] = []
    ignored_bytes = 0
    ignoring = False
    for raw in header.splitlines(keepends=True):
        line = raw.rstrip(b"\r\n").rstrip(b" \t")
        continuation = raw[:1] in (b" ", b"\t")
        if continuation and (lines or ignoring):
            if ignoring:
                ignored_bytes += len(raw)
            elif line.strip():
                lines[-1] += b" " + line.strip()
            continue
        ignoring = bool(_IGNORED_HEADER.match(line))
        if ignoring:
            ignored_bytes += len(raw)
        elif line:
            lines.append(line)
    return lines, ignored_bytes


def fingerprint(header: bytes, total_size: int) -> str:
    """Identity of a message from its header section and its RFC822.SIZE."""
    lines, ignored_bytes = _header_lines(header)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line)
        digest.update(b"\n")
    digest.update(b"size:%d" % (total_size - ignored_bytes))
    return digest.hexdigest()[:32]
