"""How to copy: the options every front end passes to the engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any

from imapcopy_tui.engine.folders import Folder
from imapcopy_tui.engine.session import Compression, Timeouts
from imapcopy_tui.engine.special import GmailViews, MappingRules

DEFAULT_CONNECTIONS = 4  # over a slow link: enough to hide the round trips
FAST_LINK_CONNECTIONS = 2  # on a LAN: one pair copies while the other waits on a server



def _selects(pattern: str, name: str) -> bool:
    """A folder choice selects the folder of exactly that name, or the names its ``*``,
    ``?`` and ``[...]`` match: "[Gmail]/All Mail" is Gmail's folder, not a pattern that
    only matches names starting with one of G, m, a, i, l."""
    return name == pattern or fnmatchcase(name, pattern)

@dataclass(frozen=True)
class CopyOptions:
    """How to copy.  The defaults are what an admin wants without thinking about it."""

    dry_run: bool = False
    send_report: bool = True
    include: tuple[str, ...] = ()  # glob patterns on folder names ("Archive/*")
    exclude: tuple[str, ...] = ()
    folder_rules: MappingRules = field(default_factory=MappingRules)
    # Connection pairs copying folders in parallel.  None: DEFAULT_CONNECTIONS, or
    # FAST_LINK_CONNECTIONS when both servers answer within SLOW_LINK_SECONDS (measured
    # on the first pair): there more pairs hide no wait, and each costs both servers a
    # login and the copy CPU.  Then never more than ``connection_limit`` (a provider's).
    connections: int | None = None
    connection_limit: int | None = None
    max_reconnects: int = 5
    backoff_seconds: float = 2.0  # first wait after a lost connection; doubles each time
    max_backoff_seconds: float = 60.0
    # A command answered "busy" (throttled, unavailable) this many times in a row is given
    # up: the pair reconnects with back-off; a [LIMIT] on one message fails that message.
    # Messages larger than this are not sent (listed in the report instead); the
    # destination's APPENDLIMIT, when lower, wins.  None: no limit of our own.
    max_message_bytes: int | None = None
    max_bytes_per_second: int | None = None  # upload pace over all pairs (None: no limit)
    busy_retries: int = 12
    limit_retries: int = 2
    timeouts: Timeouts = field(default_factory=Timeouts)
    # COMPRESS=DEFLATE (RFC 4978): auto compresses a connection whose server offers it
    # when the link is slow (each side measured on its own); on, whenever offered.
    compress: Compression = Compression.AUTO
    fetch_batch_bytes: int = 8 * 1024 * 1024
    memory_budget_bytes: int = 48 * 1024 * 1024  # mail held in memory by all pairs at once
    fetch_batch_count: int = 200
    scan_batch_count: int = 1000

    def wants(self, folder: Folder) -> bool:
        """Whether the include/exclude patterns select this folder."""
        name = folder.display_name
        if self.include and not any(_selects(p, name) for p in self.include):
            return False
        return not any(_selects(p, name) for p in self.exclude)

    def unmatched_includes(self, names: Sequence[str]) -> list[str]:
        """The include patterns that select none of the folder ``names`` (a typo, a case)."""
        return [p for p in self.include if not any(_selects(p, name) for name in names)]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for the detached runner's JSON): every option, nothing lost."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CopyOptions:
        """The inverse of :meth:`to_dict`; unknown keys are ignored (an older runner)."""
        values = _known(cls, data)
        for name in ("include", "exclude"):
            if name in values:
                values[name] = tuple(values[name])
        if "compress" in values:
            values["compress"] = Compression(values["compress"])
        if "timeouts" in values:
            values["timeouts"] = Timeouts(**_known(Timeouts, values["timeouts"]))
        if "folder_rules" in values:
            rules = _known(MappingRules, values["folder_rules"])
            rules["renames"] = tuple(tuple(pair) for pair in rules.get("renames", ()))
            rules["gmail_all_mail"] = GmailViews(rules.get("gmail_all_mail", GmailViews.SKIP))
            values["folder_rules"] = MappingRules(**rules)
        return cls(**values)


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    """The items of ``data`` that are fields of dataclass ``kind`` (a newer front end may
    send options an older runner does not know)."""
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in data.items() if k in names}
