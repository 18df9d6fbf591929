"""Running the two copiers (and the latency proxy) as bounded, measured subprocesses.

Each copy runs under GNU ``/usr/bin/time -v`` (peak RSS of the tool, children included)
in a session of its own, so that a timeout kills the whole process group; the wall time is
our own monotonic clock around it.
"""

from __future__ import annotations

import compileall
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"
PROXY_START_TIMEOUT = 10.0


class BenchError(RuntimeError):
    """The benchmark cannot go on (a tool missing, hung or a server broken)."""


@dataclass(frozen=True)
class Endpoint:
    """Where a tool finds one account: address, port, login, password."""

    host: str
    port: int
    user: str
    password: str


@dataclass(frozen=True)
class Measured:
    """One run of a tool."""

    seconds: float
    peak_rss_kb: int
    returncode: int
    log: Path


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(10)


def run_measured(
    cmd: list[str], *, log: Path, timeout: float, env: dict[str, str] | None = None
) -> Measured:
    """Run ``cmd`` under ``/usr/bin/time -v``; its output goes to ``log``."""
    if not os.access(GNU_TIME, os.X_OK):
        raise BenchError(f"{GNU_TIME} (GNU time) is needed for the peak RSS")
    time_file = log.with_suffix(".time")
    with open(log, "wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(
            [GNU_TIME, "-v", "-o", str(time_file), *cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise BenchError(
                f"{Path(cmd[0]).name} did not finish in {timeout:.0f} s; see {log}"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
        seconds = time.monotonic() - started
    report = time_file.read_text(errors="replace")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    return Measured(seconds, int(found.group(1)) if found else 0, returncode, log)


# --- imapcopy ------------------------------------------------------------------------


def pin_code(repo: Path, into: Path) -> Path:
    """Copy ``imapcopy_tui/`` as it is now into ``into``; return the dir for PYTHONPATH.

    The engine may be edited while a benchmark runs for many minutes: every run of the
    benchmark then uses the code as it was when it started (the copy comes first on
    ``sys.path``, before the editable install's finder).
    """
    target = into / "code"
    shutil.copytree(
        repo / "imapcopy_tui", target / "imapcopy_tui", ignore=shutil.ignore_patterns("__pycache__")
    )
    # Compiled once now, as ``pip install`` does: with PYTHONDONTWRITEBYTECODE set (as in
    # some containers) every run would otherwise compile every module again (~0.1 s).
    compileall.compile_dir(str(target), quiet=1)
    return target


def imapcopy_command(source: Endpoint, destination: Endpoint, db: Path) -> list[str]:
    """``imapcopy sync`` between two plain-IMAP endpoints, no report, its own job db.

    Run as ``python -m imapcopy_tui`` (what the ``imapcopy`` script does) so that the
    pinned copy of the code is the one imported (see :func:`pin_code`).
    """
    return [
        sys.executable,
        "-m",
        "imapcopy_tui",
        "sync",
        "--host1",
        source.host,
        "--port1",
        str(source.port),
        "--plain1",
        "--user1",
        source.user,
        "--host2",
        destination.host,
        "--port2",
        str(destination.port),
        "--plain2",
        "--user2",
        destination.user,
        "--no-report",
        "--db",
        str(db),
    ]


def imapcopy_env(
    source: Endpoint, destination: Endpoint, home: Path, code: Path | None
) -> dict[str, str]:
    """The passwords in the variables imapcopy reads; XDG dirs in our temp dir; the code."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(code), env.get("PYTHONPATH"))))
    env.update(
        IMAPCOPY_PASSWORD1=source.password,
        IMAPCOPY_PASSWORD2=destination.password,
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    return env


def imapcopy_version(code: Path | None) -> str:
    """``imapcopy --version`` of the pinned code, or what went wrong."""
    env = dict(os.environ, PYTHONPATH=str(code)) if code else None
    return _version([sys.executable, "-m", "imapcopy_tui", "--version"], env).removeprefix(
        "imapcopy "
    )


def imapcopy_startup_seconds(code: Path | None, runs: int = 5) -> float:
    """Median wall time of ``imapcopy --version`` from the pinned code: the interpreter
    and the imports, paid once by every run (mbsync, in C, starts in about a millisecond)."""
    env = dict(os.environ, PYTHONPATH=str(code)) if code else None
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "imapcopy_tui", "--version"],
            capture_output=True, timeout=30, check=False, env=env,
        )  # fmt: skip
        times.append(time.monotonic() - started)
    return sorted(times)[len(times) // 2]


def ceiling_command(source: Endpoint, destination: Endpoint) -> list[str]:
    """The bare streaming copy of ``bench/ceiling.py`` (passwords from :func:`imapcopy_env`)."""
    return [
        sys.executable,
        str(Path(__file__).resolve().parent / "ceiling.py"),
        source.host,
        str(source.port),
        source.user,
        destination.host,
        str(destination.port),
        destination.user,
    ]


# --- mbsync --------------------------------------------------------------------------


def mbsync_binary() -> str:
    """The mbsync program, or a BenchError saying how to get it."""
    program = shutil.which("mbsync")
    if program is None:
        raise BenchError("mbsync was not found (apt-get install isync)")
    return program


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_mbsync_config(
    path: Path, source: Endpoint, destination: Endpoint, state_dir: Path
) -> Path:
    """An mbsyncrc copying source (Far) into destination (Near), nothing else.

    ``Sync Pull``: far to near only; ``Create Near``: make missing folders on the
    destination; ``Expunge/Remove None``: never delete; ``CopyArrivalDate``: keep internal
    dates.  ``Patterns`` lists INBOX explicitly since ``*`` does not match it.
    """
    sections = []
    for name, end in (("source", source), ("destination", destination)):
        sections.append(
            f"IMAPAccount {name}-account\n"
            f"Host {end.host}\nPort {end.port}\nUser {_quoted(end.user)}\n"
            f"Pass {_quoted(end.password)}\n"
            "SSLType None\nAuthMechs LOGIN\nTimeout 120\n\n"
            f"IMAPStore {name}\nAccount {name}-account\n"
        )
    sections.append(
        "Channel bench\nFar :source:\nNear :destination:\nPatterns INBOX *\n"
        "Create Near\nSync Pull\nExpunge None\nRemove None\nCopyArrivalDate yes\n"
        f"SyncState {state_dir}/\n"
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sections))
    path.chmod(0o600)
    return path


def mbsync_command(config: Path) -> list[str]:
    """Every channel of ``config``."""
    return [mbsync_binary(), "-c", str(config), "-a"]


def mbsync_version() -> str:
    """``mbsync --version``."""
    return _version([mbsync_binary(), "--version"])


def _version(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "?"


# --- the latency proxy ----------------------------------------------------------------


class Proxy:
    """``bench/proxy.py`` in a subprocess, forwarding to the given endpoints."""

    def __init__(
        self,
        targets: list[tuple[str, int]],
        delay_ms: float,
        bandwidth_kbps: float | None,
        log: Path,
    ) -> None:
        self.targets = targets
        self.delay_ms = delay_ms
        self.bandwidth_kbps = bandwidth_kbps
        self.log = log
        self.ports: list[int] = []
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> list[int]:
        """Start it; return the listening port of each target, in order."""
        cmd = [
            sys.executable,
            str(Path(__file__).with_name("proxy.py")),
            "--delay-ms",
            str(self.delay_ms),
        ]
        if self.bandwidth_kbps:
            cmd += ["--bandwidth-kbps", str(self.bandwidth_kbps)]
        for host, port in self.targets:
            cmd += ["--forward", f"{host}:{port}"]
        with open(self.log, "wb") as err:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                start_new_session=True,
            )
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], PROXY_START_TIMEOUT)
        line = self._proc.stdout.readline().decode() if ready else ""
        if not line.startswith("LISTENING"):
            self.stop()
            raise BenchError(f"the latency proxy did not start; see {self.log}")
        self.ports = [int(p) for p in line.split()[1:]]
        return self.ports

    def stop(self) -> str:
        """Stop it; return its last words (the bytes it carried)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return ""
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out = b""
        return out.decode(errors="replace").strip()
