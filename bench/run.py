"""Benchmark imapcopy against mbsync between two local Dovecot servers; one command.

    python bench/run.py [--messages 2000] [--latency-ms 20] [--bandwidth-kbps N] [--big N]
                        [--scenarios loopback,latency] [--keep]

For each scenario: load a deterministic corpus (``bench/corpus.py``) into a fresh source
user, copy it into a fresh destination user with ``imapcopy sync`` and with ``mbsync``
(each under ``/usr/bin/time -v``), run each again with nothing new, check the copies
against the source, print a table and append it to ``bench/RESULTS.md``.
See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpus import CorpusPlan, default_big, plan_corpus
from bench.load import load_corpus
from bench.report import (
    ToolResult,
    append_results,
    machine_facts,
    text_table,
    verification_lines,
)
from bench.tools import (
    BenchError,
    Endpoint,
    Proxy,
    ceiling_command,
    imapcopy_command,
    imapcopy_env,
    imapcopy_startup_seconds,
    imapcopy_version,
    mbsync_command,
    mbsync_version,
    pin_code,
    run_measured,
    write_mbsync_config,
)
from bench.verify import Snapshot, compare, expected_snapshot, snapshot
from tests.dovecot import DovecotServer, find_binary

SCENARIOS = ("loopback", "latency")
TOOLS = ("imapcopy", "mbsync")
# Asked for by name only: the bare streaming copy of bench/ceiling.py, a yardstick.
OPTIONAL_TOOLS = ("ceiling",)
LATENCY_DEFAULT_MESSAGES = 1000


@dataclass(frozen=True)
class Scenario:
    """One network set-up and corpus size."""

    name: str
    messages: int
    big: int
    delay_ms: float | None  # None: straight to Dovecot
    bandwidth_kbps: float | None

    def describe(self) -> str:
        """``latency: 1000 messages, 0 of 10-25 MB, 20 ms each way``."""
        words = f"{self.name}: {self.messages} messages, {self.big} of 10-25 MB"
        if self.delay_ms is not None:
            words += f", {self.delay_ms:g} ms each way"
        if self.bandwidth_kbps:
            words += f", {self.bandwidth_kbps:g} kbit/s each way"
        return words


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring and bench/README.md)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--messages",
        type=int,
        default=None,
        help="messages in the corpus (default 2000; 1000 in the latency scenario)",
    )
    p.add_argument(
        "--big",
        type=int,
        default=None,
        help="how many of them are 10-25 MB (default 3 from 2000 messages, 1 from "
        "500, else 0; 0 in the latency scenario)",
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="one-way delay of the latency scenario (default 20: 40 ms round trip)",
    )
    p.add_argument(
        "--bandwidth-kbps",
        type=float,
        default=None,
        help="also cap each direction of the latency scenario (kilobits/s)",
    )
    p.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated, from: " + ", ".join(SCENARIOS),
    )
    p.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated, from: {', '.join(TOOLS + OPTIONAL_TOOLS)} (default "
        f"{','.join(TOOLS)}; ceiling is the bare streaming copy of bench/ceiling.py)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each tool per scenario, alternating tools; the table shows the run "
        "with the median first-copy time (default 1)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds allowed to one run of a tool (default 300 + 1 per message)",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=REPO / "bench" / "RESULTS.md",
        help="where to append the results (default bench/RESULTS.md)",
    )
    p.add_argument(
        "--compress",
        choices=("auto", "on", "off"),
        default=None,
        help="pass --compress to imapcopy; the servers then offer COMPRESS=DEFLATE "
        "(default: not passed, imapcopy's auto, and servers without it)",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dirs (mail, logs, configs) and print where they are",
    )
    args = p.parse_args(argv)
    for name, allowed in (("scenarios", SCENARIOS), ("tools", TOOLS + OPTIONAL_TOOLS)):
        chosen = [x.strip() for x in getattr(args, name).split(",") if x.strip()]
        unknown = set(chosen) - set(allowed)
        if unknown or not chosen:
            p.error(f"--{name}: choose from {', '.join(allowed)}")
        setattr(args, name, chosen)
    if args.messages is not None and args.messages < 1:
        p.error("--messages must be at least 1")
    return args


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The scenarios asked for, with their corpus sizes."""
    out = []
    for name in args.scenarios:
        if name == "loopback":
            messages = args.messages if args.messages is not None else 2000
            big = args.big if args.big is not None else default_big(messages)
            out.append(Scenario(name, messages, min(big, messages), None, None))
        else:
            messages = args.messages if args.messages is not None else LATENCY_DEFAULT_MESSAGES
            big = args.big if args.big is not None else 0
            out.append(
                Scenario(name, messages, min(big, messages), args.latency_ms, args.bandwidth_kbps)
            )
    return out


def log(text: str) -> None:
    """Progress on stdout, flushed (the runs take minutes)."""
    print(text, flush=True)


class Bench:
    """The two servers, the temp dirs, and one scenario/tool after another."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        shm = Path("/dev/shm")
        # Mail on tmpfs when there is one; the path stays short for Dovecot's sockets.
        mail_parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.mail_root = Path(tempfile.mkdtemp(prefix="icb-", dir=mail_parent))
        self.mail_root.chmod(0o755)
        self.work = Path(tempfile.mkdtemp(prefix="imapcopy-bench-"))
        self.code = pin_code(REPO, self.work)
        # Dovecot's imap_zlib plugin offers COMPRESS=DEFLATE; only when --compress is
        # given, so that the default run compares the tools on the same servers as before.
        zlib = (
            "protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}\n"
            if args.compress
            else ""
        )
        self.source = DovecotServer(self.mail_root, "src", tls=False, extra_config=zlib)
        self.destination = DovecotServer(self.mail_root, "dst", tls=False, extra_config=zlib)

    def close(self) -> None:
        """Stop both servers; remove the temp dirs unless --keep."""
        for server in (self.source, self.destination):
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - report, and go on cleaning up
                log(f"could not stop dovecot {server.name}: {exc}")
        if self.args.keep:
            log(f"kept: mail and Dovecot logs in {self.mail_root}, tool logs in {self.work}")
        else:
            shutil.rmtree(self.mail_root, ignore_errors=True)
            shutil.rmtree(self.work, ignore_errors=True)

    def endpoint(self, server: DovecotServer, user: str, port: int | None = None) -> Endpoint:
        """How a tool reaches ``user`` on ``server`` (through a proxy port if given)."""
        return Endpoint(server.host, port or server.plain_port, user, server.password)

    def run_scenario(self, scenario: Scenario) -> list[ToolResult]:
        """Every tool in one scenario."""
        plan = plan_corpus(scenario.messages, scenario.big)
        runs: dict[str, list[ToolResult]] = {tool: [] for tool in self.args.tools}
        for round_ in range(max(1, self.args.repeat)):
            for tool in self.args.tools:  # alternate, so a busy moment hits both tools
                runs[tool].append(self.run_tool(scenario, plan, tool, round_))
        results = []
        for tool, attempts in runs.items():
            ordered = sorted(attempts, key=lambda r: r.first.seconds if r.first else 1e9)
            chosen = ordered[len(ordered) // 2]
            if len(attempts) > 1:
                times = ", ".join(f"{r.first.seconds:.2f}" for r in attempts if r.first)
                chosen.notes.append(f"median of {len(attempts)} runs (first copy: {times} s)")
                failed = [r for r in attempts if r.error or (
                    tool == "imapcopy" and not all(
                        c is not None and c.identical for c in (r.first_check, r.rerun_check)
                    )
                )]
                if failed and failed[0] is not chosen:
                    chosen.notes.append("ANOTHER RUN FAILED: " + (failed[0].error or "check"))
                    chosen.error = chosen.error or "another run failed its check"
            results.append(chosen)
        return results

    def run_tool(
        self, scenario: Scenario, plan: CorpusPlan, tool: str, round_: int = 0
    ) -> ToolResult:
        """Load a fresh source, copy it twice with ``tool``, check both copies."""
        tag = f"[{scenario.name} / {tool} / run {round_ + 1}]"
        suffix = f"{scenario.name}-{tool}-{round_}"
        src_user, dst_user = f"src-{suffix}", f"dst-{suffix}"
        loaded = load_corpus(
            self.source.host, self.source.plain_port, src_user, self.source.password, plan
        )
        log(
            f"{tag} loaded {loaded.messages} messages, {loaded.bytes / 1e6:.1f} MB "
            f"in {loaded.seconds:.1f} s"
        )
        # The size the servers count (RFC822.SIZE), for the MB columns.
        # The ceiling keeps no state: a re-run would copy everything again.
        reruns = tool != "ceiling"
        result = ToolResult(scenario.name, tool, loaded.messages, loaded.bytes, reruns=reruns)
        workdir = self.work / suffix
        workdir.mkdir()
        timeout = self.args.timeout or 300.0 + scenario.messages
        proxy = None
        copies: dict[str, Snapshot] = {}
        try:
            src_port = dst_port = None
            if scenario.delay_ms is not None:
                proxy = Proxy(
                    [
                        (self.source.host, self.source.plain_port),
                        (self.destination.host, self.destination.plain_port),
                    ],
                    scenario.delay_ms,
                    scenario.bandwidth_kbps,
                    workdir / "proxy.log",
                )
                src_port, dst_port = proxy.start()
            src = self.endpoint(self.source, src_user, src_port)
            dst = self.endpoint(self.destination, dst_user, dst_port)
            if tool == "imapcopy":
                cmd = imapcopy_command(src, dst, workdir / "jobs.sqlite3")
                if self.args.compress:
                    cmd += ["--compress", self.args.compress]
                env: dict[str, str] | None = imapcopy_env(src, dst, workdir, self.code)
            elif tool == "ceiling":
                cmd, env = ceiling_command(src, dst), imapcopy_env(src, dst, workdir, None)
            else:
                config = write_mbsync_config(workdir / "mbsyncrc", src, dst, workdir / "state")
                cmd, env = mbsync_command(config), None
            for label in ("first", "rerun") if reruns else ("first",):
                measured = run_measured(cmd, log=workdir / f"{label}.log", timeout=timeout, env=env)
                setattr(result, label, measured)
                log(
                    f"{tag} {label}: {measured.seconds:.2f} s, exit {measured.returncode}, "
                    f"peak RSS {measured.peak_rss_kb * 1024 / 1e6:.0f} MB"
                )
                if measured.returncode != 0:
                    tail = measured.log.read_text(errors="replace").strip().splitlines()[-5:]
                    result.notes.append(
                        f"{label} exited {measured.returncode}: " + " / ".join(tail)
                    )
                # Read the destination now; the source once both runs are over (reading it
                # between the runs would warm its caches for the re-run).
                with self.destination.client(dst_user) as client:
                    copies[label] = snapshot(client)
            if proxy is not None:
                result.notes.append("proxy " + proxy.stop())
                proxy = None
        except BenchError as exc:
            result.error = str(exc)
            log(f"{tag} {exc}")
        finally:
            if proxy is not None:
                proxy.stop()
        self._check(result, plan, src_user, copies, tag)
        return result

    def _check(
        self,
        result: ToolResult,
        plan: CorpusPlan,
        src_user: str,
        copies: dict[str, Snapshot],
        tag: str,
    ) -> None:
        """Compare the destination snapshots with the source; check the source is untouched."""
        with self.source.client(src_user) as client:
            source = snapshot(client)
        untouched = compare(expected_snapshot(plan), source)
        if not untouched.identical:
            result.notes.append("SOURCE CHANGED or loaded wrong: " + untouched.summary())
            log(f"{tag} the source is not what was loaded: {untouched.summary()}")
        for label, copy in copies.items():
            check = compare(source, copy)
            setattr(result, f"{label}_check", check)
            if result.tool == "imapcopy":
                verdict = "PASS" if check.identical else "FAIL: " + check.summary()
            else:
                verdict = "identical: " + check.summary()
            log(f"{tag} {label} check: {verdict}")


def cpu_ticks() -> tuple[int, int]:
    """(all, stolen) CPU ticks since boot, from /proc/stat; (0, 0) where there is none."""
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(values[:8]), values[7] if len(values) > 7 else 0


def stolen_line(before: tuple[int, int], after: tuple[int, int]) -> str:
    """How much CPU time the hypervisor gave to other machines during the run.

    On a virtual machine the host may run other guests on "our" cores: the copies then
    wait for CPU that no load average shows.  A run with much stolen time is noisy.
    """
    total, stolen = after[0] - before[0], after[1] - before[1]
    if total <= 0:
        return "CPU time stolen by the host: unknown"
    return f"CPU time stolen by the host (steal in /proc/stat) during the run: {stolen / total:.1%}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every imapcopy copy verified, 1 otherwise, 2 on bad setup."""
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    steal_before = cpu_ticks()
    command = "python bench/run.py" + "".join(
        f" {shlex.quote(a)}" for a in (argv if argv is not None else sys.argv[1:])
    )
    if find_binary("dovecot") is None:
        log("dovecot was not found (apt-get install dovecot-imapd)")
        return 2
    try:
        mbsync = mbsync_version() if "mbsync" in args.tools else None
    except BenchError as exc:
        log(str(exc))
        return 2
    results: list[ToolResult] = []
    bench = Bench(args)
    try:
        # Facts about the code before anything runs: it is pinned now (see pin_code).
        versions = {"imapcopy": imapcopy_version(bench.code), "Dovecot": _dovecot_version()}
        if mbsync:
            versions["mbsync"] = mbsync
        facts = machine_facts(REPO, versions)
        startup = imapcopy_startup_seconds(bench.code)
        bench.source.start()
        bench.destination.start()
        for scenario in scenarios(args):
            log(f"== {scenario.describe()}")
            results += bench.run_scenario(scenario)
    finally:
        bench.close()
    total = time.monotonic() - started
    log("")
    log(text_table(results))
    log("")
    for line in verification_lines(results):
        log(line)
    log(
        f"total time {total:.0f} s; load average {load_before:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end"
    )
    append_results(
        args.results,
        title=time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        + " UTC — "
        + ", ".join(args.scenarios),
        command=command,
        facts=[*facts, "Scenarios: " + "; ".join(s.describe() for s in scenarios(args))],
        results=results,
        extra=[
            f"Whole run (loading, copies, checks): {total:.0f} s",
            # Other work on the machine skews the timings: this shows whether there was any.
            f"Load average (1 min) at the start {load_before:.2f}, "
            + f"at the end {os.getloadavg()[0]:.2f}",
            stolen_line(steal_before, cpu_ticks()),
            *startup_lines(results, startup),
        ],
    )
    log(f"appended to {args.results}")
    passed = all(
        r.ok
        and r.first_check is not None
        and r.first_check.identical
        and r.rerun_check is not None
        and r.rerun_check.identical
        for r in results
        if r.tool == "imapcopy"
    )
    return 0 if passed else 1


def startup_lines(results: list[ToolResult], startup: float) -> list[str]:
    """imapcopy's start-up, and each scenario's ratio with it left out: how the copying
    itself compares (for reading only; the targets are on the whole runs)."""
    lines = [f"imapcopy start-up (`imapcopy --version`, median of 5): {startup:.2f} s"]
    by_scenario: dict[str, dict[str, ToolResult]] = {}
    for result in results:
        by_scenario.setdefault(result.scenario, {})[result.tool] = result
    for scenario, tools in by_scenario.items():
        ours, theirs = tools.get("imapcopy"), tools.get("mbsync")
        if ours and theirs and ours.first and theirs.first and ours.first.seconds > startup:
            ratio = theirs.first.seconds / (ours.first.seconds - startup)
            lines.append(f"{scenario}: imapcopy/mbsync without imapcopy's start-up: {ratio:.2f}")
    return lines


def _dovecot_version() -> str:
    binary = find_binary("dovecot")
    try:
        done = subprocess.run(
            [binary or "dovecot", "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    sys.exit(main())
