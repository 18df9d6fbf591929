"""The results table, the machine facts, and the entry appended to ``bench/RESULTS.md``."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.tools import Measured
from bench.verify import Comparison

MB = 1000 * 1000

RESULTS_HEADER = """\
# Benchmark results

Each entry below is one run of `python bench/run.py` (see `bench/README.md`), appended by
the harness itself with the exact command, the machine and the versions; older entries are
never rewritten.  How to read a table:

* **seconds**: wall time of the first copy into an empty destination; **msg/s** and
  **MB/s** follow from it (MB = 10^6 bytes of messages as the server counts them).
* **re-run s**: the same command again with nothing new to copy.
* **peak RSS MB**: the largest resident set of the tool (GNU `time -v`), over both runs.
* **identical?**: whether the destination is an exact copy of the source (folders, and per
  folder the same messages in the same order with the same bytes, flags without `\\Recent`,
  internal dates; nothing missing, nothing doubled).  mbsync is expected to say no: it adds
  an `X-TUID` header to what it uploads and, in 1.4, does not copy keywords.
* **imapcopy/mbsync** rows: msg/s above 1 means imapcopy is faster; re-run and RSS above 1
  mean imapcopy takes longer / uses more memory.
* **ceiling** (only with `--tools ...,ceiling`): `bench/ceiling.py`, a bare streaming copy
  with no state, run once per round; **ceiling/mbsync** and **imapcopy/ceiling** compare
  msg/s.
* *loopback* talks to Dovecot directly; *latency* goes through `bench/proxy.py`, which
  delays every chunk by the given one-way delay in each direction.

Dovecot's mail is on tmpfs; the tools' own state (imapcopy's job database, mbsync's
SyncState) is in a temp dir on the ordinary file system.
"""


@dataclass
class ToolResult:
    """One tool in one scenario: the first copy, the re-run, and their verification."""

    scenario: str
    tool: str
    messages: int
    bytes: int
    first: Measured | None = None
    rerun: Measured | None = None
    first_check: Comparison | None = None
    rerun_check: Comparison | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    reruns: bool = True  # False for the ceiling, which keeps no state

    @property
    def ok(self) -> bool:
        """Both runs (the first only, for a tool without re-runs) happened and exited 0."""
        rerun_ok = self.rerun is not None and self.rerun.returncode == 0
        return (
            self.error is None
            and self.first is not None
            and self.first.returncode == 0
            and (rerun_ok or not self.reruns)
        )

    def rate(self) -> float | None:
        """Messages a second of the first copy."""
        return self.messages / self.first.seconds if self.first else None

    def peak_rss_mb(self) -> float | None:
        """The larger peak RSS of the two runs, in MB."""
        runs = [m for m in (self.first, self.rerun) if m is not None]
        return max(m.peak_rss_kb for m in runs) * 1024 / MB if runs else None

    def identical(self) -> str:
        """``yes`` / ``no`` for the table (after the re-run, the final state)."""
        check = self.rerun_check or self.first_check
        if check is None:
            return "?"
        return "yes" if check.identical else "no"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"


COLUMNS = (
    "scenario",
    "tool",
    "messages",
    "MB",
    "seconds",
    "msg/s",
    "MB/s",
    "re-run s",
    "peak RSS MB",
    "identical?",
)


def table_rows(results: list[ToolResult]) -> list[tuple[str, ...]]:
    """Rows of the table, with an imapcopy/mbsync ratio row after each scenario's pair
    (and, when the ceiling ran, how it and imapcopy compare)."""
    rows: list[tuple[str, ...]] = []
    for scenario in dict.fromkeys(r.scenario for r in results):
        pair = {r.tool: r for r in results if r.scenario == scenario}
        for r in pair.values():
            seconds = r.first.seconds if r.first else None
            status = "" if r.ok else f" ({r.error or 'exit ' + _exit_codes(r)})"
            rows.append(
                (
                    r.scenario,
                    r.tool + status,
                    f"{r.messages:,}",
                    _num(r.bytes / MB),
                    _num(seconds, 2),
                    _num(r.rate()),
                    _num(r.bytes / MB / seconds if seconds else None),
                    _num(r.rerun.seconds if r.rerun else None, 2),
                    _num(r.peak_rss_mb()),
                    r.identical(),
                )
            )
        mine, theirs = pair.get("imapcopy"), pair.get("mbsync")
        if mine and theirs:
            rows.append(
                (
                    scenario,
                    "imapcopy/mbsync",
                    "",
                    "",
                    "",
                    _ratio(mine.rate(), theirs.rate()),
                    "",
                    _ratio(
                        mine.rerun.seconds if mine.rerun else None,
                        theirs.rerun.seconds if theirs.rerun else None,
                    ),
                    _ratio(mine.peak_rss_mb(), theirs.peak_rss_mb()),
                    "",
                )
            )
        ceiling = pair.get("ceiling")
        compared = (("ceiling/mbsync", ceiling, theirs), ("imapcopy/ceiling", mine, ceiling))
        for label, a, b in compared if ceiling else ():
            if a and b:
                rate = _ratio(a.rate(), b.rate())
                rows.append((scenario, label, "", "", "", rate, "", "", "", ""))
    return rows


def _exit_codes(r: ToolResult) -> str:
    return "/".join(str(m.returncode) for m in (r.first, r.rerun) if m is not None)


def text_table(results: list[ToolResult]) -> str:
    """The table for the terminal, columns aligned."""
    rows = [COLUMNS, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: list[ToolResult]) -> str:
    """The same table in Markdown."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if i < 2 else "---:" for i in range(len(COLUMNS))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    return "\n".join(lines)


def verification_lines(results: list[ToolResult]) -> list[str]:
    """One line per run: PASS/FAIL for imapcopy, identical or not (and why) for mbsync."""
    lines = []
    for r in results:
        for label, check in (("first run", r.first_check), ("re-run", r.rerun_check)):
            if check is None:
                continue
            if r.tool == "imapcopy":
                verdict = "PASS" if check.identical else "FAIL: " + check.summary()
            else:
                verdict = "identical: " + check.summary()
            lines.append(
                f"{r.scenario} / {r.tool} / {label}: {verdict} "
                f"({check.destination_messages} of {check.source_messages} messages)"
            )
        lines += [f"{r.scenario} / {r.tool}: {note}" for note in r.notes]
    return lines


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=cwd, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def machine_facts(repo: Path, versions: dict[str, str]) -> list[str]:
    """nproc, CPU, memory, kernel, Python, tool versions, the code's git state, the date."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    head = _run(["git", "rev-parse", "--short", "HEAD"], repo) or "?"
    code = f"git {head}"
    if _run(["git", "status", "--porcelain", "--", "imapcopy_tui"], repo):
        diff = _run(["git", "diff", "HEAD", "--", "imapcopy_tui"], repo)
        digest = hashlib.sha256(diff.encode()).hexdigest()[:12]
        code += f" plus uncommitted changes in imapcopy_tui/ (diff sha256 {digest})"
    return [
        (
            f"Machine: nproc {_run(['nproc']) or os.cpu_count()}, {cpu}{memory}, "
            f"{platform.system()} {platform.release()}"
        ),
        f"Versions: Python {platform.python_version()}; "
        + "; ".join(f"{k} {v}" for k, v in versions.items()),
        f"imapcopy code: {code} (copied aside when the run started)",
    ]


def append_results(
    path: Path,
    *,
    title: str,
    command: str,
    facts: list[str],
    results: list[ToolResult],
    extra: list[str],
) -> None:
    """Append one entry to ``path``, creating it with its header the first time."""
    entry = [f"## {title}", "", f"Command: `{command}`", ""]
    entry += [f"- {fact}" for fact in facts]
    entry += ["", markdown_table(results), ""]
    entry += [f"- {line}" for line in verification_lines(results) + extra]
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8") as out:
        if new:
            out.write(RESULTS_HEADER)
        out.write("\n" + "\n".join(entry) + "\n")
