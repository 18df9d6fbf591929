"""When is a destination message "the same" as a source message?

The rule (also in the README): two messages are the same when their header sections are
identical, line for line, and their bodies have the same size.  The header section is what
the server returns for ``BODY.PEEK[HEADER]``; line ends are normalised and ``X-TUID`` lines
(added by mbsync) are ignored so that mail copied earlier by that tool is recognised.

This recognises mail put there by an earlier job or an earlier tool that copied bytes
faithfully (imapsync, doveadm, a previous run of ours), keeps apart two distinct messages
that share a Message-ID (their Received, Date or Subject lines differ, or their bodies),
and lets exact duplicates inside one folder stay duplicates: the copier matches
fingerprints as a multiset, the n-th copy on the source with the n-th on the destination.
"""

from __future__ import annotations

import hashlib
import re

_IGNORED_HEADER = re.compile(rb"^x-tuid:", re.IGNORECASE)


def _header_lines(header: bytes) -> list[bytes]:
    """Logical header lines (continuations unfolded), line ends and trailing blanks dropped."""
    lines: list[bytes] = []
    for raw in header.replace(b"\r\n", b"\n").split(b"\n"):
        line = raw.rstrip(b" \t\r")
        if not line:
            continue
        if raw[:1] in (b" ", b"\t") and lines:
            lines[-1] += b" " + line.strip()
        else:
            lines.append(line)
    return [line for line in lines if not _IGNORED_HEADER.match(line)]


def fingerprint(header: bytes, total_size: int) -> str:
    """Identity of a message from its header section and its RFC822.SIZE."""
    body_size = max(total_size - len(header), 0)
    digest = hashlib.sha256()
    for line in _header_lines(header):
        digest.update(line)
        digest.update(b"\n")
    digest.update(b"body-size:%d" % body_size)
    return digest.hexdigest()[:32]
