"""Planning a job: which source folder goes where, what to create, what needs no pair.

The :class:`~imapcopy_tui.engine.copier.Copier`'s first steps, kept apart from copying:
both sides' folders and namespaces, the mapping (special folders, the user's rules,
Gmail's views), the pipelined CREATEs, and STATUS to settle empty and unchanged folders
without opening them.  The mixin only uses the attributes declared below, which the
Copier sets up.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.answers import busy_answer
from imapcopy_tui.engine.folders import INBOX, Folder, Namespace, plan_folders
from imapcopy_tui.engine.ledger import FolderPair, Ledger
from imapcopy_tui.engine.options import CopyOptions
from imapcopy_tui.engine.pacing import Pacer
from imapcopy_tui.engine.progress import (
    CopyIssue,
    CopyListener,
    CopyResult,
    FolderCounts,
    Severity,
)
from imapcopy_tui.engine.session import FolderStatus, ImapSession, RawFolder
from imapcopy_tui.engine.special import (
    RULE_REASON,
    FolderMapping,
    MappingRules,
    choose_gmail_folders,
    role_by_name,
)

SHOWN_FOLDER_NAMES = 12  # of the source's, in a message


def _under(name: str, rule: str, ns: Namespace) -> bool:
    """Whether source folder ``name`` is rule's folder or below it (ignoring case)."""
    parts = tuple(p.casefold() for p in ns.parts(name))
    wanted = tuple(p.casefold() for p in rule.split("/"))
    return parts[: len(wanted)] == wanted


def _folder_names(folders: Sequence[RawFolder]) -> set[str]:
    return {INBOX if f.name.upper() == INBOX else f.name for f in folders}


class PlanningMixin:
    """The planning steps of the Copier (see the module docstring)."""

    options: CopyOptions
    source: Account
    destination: Account
    ledger: Ledger
    listener: CopyListener
    result: CopyResult
    _destination_pacer: Pacer
    _destination_folders: set[str]
    _source_status: dict[str, FolderStatus]
    _destination_status: dict[str, FolderStatus]
    _label_folders: list[Folder]
    _unlabelled_only: frozenset[str]
    _size_limit: int | None

    def _issue(self, issue: CopyIssue) -> None:
        raise NotImplementedError

    def _expect_work(
        self, folders: Sequence[tuple[Folder, int]], src: ImapSession, dst: ImapSession
    ) -> None:
        """STATUS says these folders (with their message counts) probably need copying:
        the copier may start logging in the connections they need (``src`` and ``dst``,
        the planning pair, tell it how fast the links are)."""

    def _sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def _plan(self, src: ImapSession, dst: ImapSession) -> list[tuple[Folder, FolderCounts]]:
        limits = [n for n in (dst.append_limit, self.options.max_message_bytes) if n]
        self._size_limit = min(limits) if limits else None

        def look(session: ImapSession) -> tuple[list[RawFolder], Namespace]:
            folders = session.list_folders()
            return folders, Namespace.discover(session, folders)

        # Both sides answer at the same time: over a slow link that halves the wait.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan") as helper:
            destination_side = helper.submit(look, dst)
            source_raw, source_ns = look(src)
            destination_raw, destination_ns = destination_side.result()
        existing = _folder_names(destination_raw)
        rules = self.options.folder_rules
        mapping = FolderMapping.build(rules, source_raw, source_ns, destination_raw, destination_ns)
        self._keep_special_targets(mapping, source_raw, source_ns, destination_ns, existing)
        listed = source_raw
        source_raw = self._without_gmail_views(source_raw, source_ns, rules)
        every_folder = plan_folders(source_raw, source_ns, destination_ns, mapping)
        folders = [f for f in every_folder if self.options.wants(f)]
        # A choice naming a Gmail view is answered by that view's own "not copied" line.
        views = [raw.name for raw in listed if raw not in source_raw]
        self._report_unmatched_includes(every_folder, views)
        # Gmail's labels, even those left out by --folder/--exclude: their mail is not
        # "unlabelled", so All Mail must not bring it in by the back door.
        self._label_folders = [f for f in every_folder if f.source_name not in
                               self._unlabelled_only]
        used = {f.source_name for f in folders if f.mapped_because == RULE_REASON}
        for source, destination in rules.renames:
            if not any(_under(name, source, source_ns) for name in used):
                self._issue(
                    CopyIssue(
                        f"your rule {source}={destination} matches no source folder",
                        severity=Severity.WARNING,
                    )
                )
        for folder in folders:
            if folder.renamed_because:
                self._issue(
                    CopyIssue(
                        f"copied into {folder.destination_name!r}: {folder.renamed_because}",
                        folder=folder.source_name,
                        severity=Severity.WARNING,
                    )
                )
        plan: list[tuple[Folder, FolderCounts]] = []
        # Folders the server will not describe are reported when they are opened.
        self._source_status = src.statuses(
            [f.source_name for f in folders if f.selectable], modseq=True
        )
        self._expect_work(
            [
                (f, status.messages)
                for f in folders
                if (status := self._source_status.get(f.source_name)) is not None
                and status.messages
                and not self._source_unchanged(f)
            ],
            src,
            dst,
        )
        for folder in folders:
            counts = FolderCounts(
                display_name=folder.display_name,
                destination_name=folder.destination_name,
                note=folder.mapped_because or folder.renamed_because,
            )
            if folder.source_name in self._source_status:
                counts.total = self._source_status[folder.source_name].messages
            plan.append((folder, counts))
        self.result.folders = [c for _, c in plan]
        self.listener.plan_ready([f for f, _ in plan], self.result.folders)
        self._destination_folders = existing
        # Create every missing folder now, parents before children, so that pairs copying
        # in parallel never race to create a parent.
        self._create_folders(dst, plan)
        remembered = [
            f.destination_name
            for f, _ in plan
            if f.destination_name in self._destination_folders
            and not self.options.dry_run
            and self.ledger.snapshot(self._pair(f)) is not None
        ]
        # No HIGHESTMODSEQ there: see FolderSnapshot.destination_lost.
        self._destination_status = dst.statuses(remembered)
        return plan

    def _report_unmatched_includes(
        self, every_folder: Sequence[Folder], skipped_views: Sequence[str]
    ) -> None:
        """A folder choice that selects nothing is said, naming the source's folders: an
        error when no choice selects anything (the job would copy nothing at all), else a
        warning."""
        names = [f.display_name for f in every_folder]
        unmatched = self.options.unmatched_includes([*names, *skipped_views])
        if not unmatched:
            return
        shown = ", ".join(names[:SHOWN_FOLDER_NAMES]) + (
            f" and {len(names) - SHOWN_FOLDER_NAMES} more"
            if len(names) > SHOWN_FOLDER_NAMES
            else ""
        )
        nothing = len(unmatched) == len(self.options.include)
        for pattern in unmatched:
            self._issue(
                CopyIssue(
                    f"your folder choice {pattern!r} matches no source folder (case counts, "
                    f"* stands for any part); the source has {shown or 'no folder'}",
                    severity=Severity.ERROR if nothing else Severity.WARNING,
                )
            )

    def _keep_special_targets(
        self,
        mapping: FolderMapping,
        source_raw: Sequence[RawFolder],
        source_ns: Namespace,
        destination_ns: Namespace,
        existing: set[str],
    ) -> None:
        """A special folder found by name goes where the ledger says earlier runs copied it,
        while that folder is still there (see FolderMapping.keep_earlier_target).

        The ledger and snapshots belong to the accounts, not to a job: a resumed job and a
        new job between the same two accounts (in the same job store) both find them.  A
        dry run (no store) and a first run have nothing to go by: the name search decides.
        """
        for role, special in mapping.source_special.items():
            target = mapping.destination_special.get(role)
            if target is None or target.by_attribute:
                continue
            source_name = next(
                (f.name for f in source_raw if source_ns.parts(f.name) == special.parts), None
            )
            if source_name is None:
                continue
            for earlier in self.ledger.destinations(
                self.source.key, source_name, self.destination.key
            ):
                parts = destination_ns.parts(earlier)
                if earlier in existing and role_by_name(parts) == role:
                    mapping.keep_earlier_target(role, parts, destination_ns.name(target.parts))
                    break

    def _without_gmail_views(
        self, folders: list[RawFolder], ns: Namespace, rules: MappingRules
    ) -> list[RawFolder]:
        """Gmail's views go (or stay, as the user chose); each skip is said in the plan."""
        choice = choose_gmail_folders(folders, ns, rules.gmail_all_mail)
        for name, why in choice.skipped:
            self._issue(CopyIssue(f"not copied: {why}", folder=name, severity=Severity.WARNING))
        self._unlabelled_only = choice.unlabelled_only
        return choice.kept

    def _fail_folder(self, counts: FolderCounts, message: str) -> None:
        counts.error = message
        counts.done = True
        self._issue(CopyIssue(message=message, folder=counts.display_name))
        self.listener.folder_done(counts)

    def _create_folders(
        self, dst: ImapSession, plan: Sequence[tuple[Folder, FolderCounts]]
    ) -> None:
        """Create and subscribe every missing folder, parents first, in one pipelined
        exchange (a dry run only says it would)."""
        missing = [(f, c) for f, c in plan if f.destination_name not in self._destination_folders]
        for _, counts in missing:
            counts.created = True
        if self.options.dry_run or not missing:
            return
        who = self.destination.describe()
        outcome = self._create_patiently(dst, [f.destination_name for f, _ in missing])
        for folder, counts in missing:
            name = folder.destination_name
            create_error, subscribe_error = outcome[name]
            if create_error is not None and "ALREADYEXISTS" in create_error.upper():
                counts.created = False  # it appeared meanwhile: fine, it is there
                create_error = None
            if create_error is not None:
                counts.created = False
                self._fail_folder(
                    counts, f"cannot create {name!r}: {who}: the server answered: {create_error}"
                )
                continue
            self._destination_folders.add(name)
            if subscribe_error is not None:
                self._issue(
                    CopyIssue(
                        f"created but not subscribed: {who}: the server answered: "
                        f"{subscribe_error}",
                        folder=counts.display_name,
                        severity=Severity.WARNING,
                    )
                )

    def _create_patiently(
        self, dst: ImapSession, names: list[str]
    ) -> dict[str, tuple[str | None, str | None]]:
        """CREATE (and SUBSCRIBE) ``names``; those answered "busy" (a burst of CREATEs is
        what trips Microsoft's throttling) are sent again after a wait."""
        outcome = dst.create_folders(names)
        for tries in range(1, self.options.busy_retries + 1):
            busy = {
                name: error
                for name, (words, _) in outcome.items()
                if words and (error := busy_answer(self.destination.describe(), words))
            }
            if not busy:
                break
            delay = self._destination_pacer.busy(next(iter(busy.values())), tries)
            self.listener.waiting(delay, str(next(iter(busy.values()))))
            self._sleep(delay)
            outcome.update(dst.create_folders(list(busy)))
        return outcome

    def _pair(self, folder: Folder) -> FolderPair:
        return FolderPair(
            self.source.key, folder.source_name, self.destination.key, folder.destination_name
        )

    def _skip_empty(self, folder: Folder, counts: FolderCounts) -> bool:
        """A folder STATUS found empty needs no pair: it is created, nothing more (a later
        run looks again)."""
        status = self._source_status.get(folder.source_name)
        if status is None or status.messages != 0:
            return False
        counts.total = 0
        counts.done = True
        self.listener.folder_done(counts)
        return True

    def _skip_unchanged(self, folder: Folder, counts: FolderCounts) -> bool:
        """Settle an unchanged folder during planning, so no pair is opened for it."""
        unchanged = self._unchanged(folder, self._pair(folder), counts)
        if unchanged:
            counts.done = True
            self.listener.folder_done(counts)
        return unchanged

    def _source_unchanged(self, folder: Folder) -> bool:
        """Whether the source side of the folder is as the last complete pass left it."""
        snapshot = self.ledger.snapshot(self._pair(folder))
        source = self._source_status.get(folder.source_name)
        return (
            snapshot is not None
            and source is not None
            and snapshot.source_unchanged(
                source.uidvalidity, source.uidnext, source.messages, source.highestmodseq
            )
        )

    def _unchanged(self, folder: Folder, pair: FolderPair, counts: FolderCounts) -> bool:
        """Whether STATUS shows the folder pair as the last complete pass left it.

        Then nothing is fetched, not even the UID list: a re-run of an unchanged mailbox
        costs a STATUS per folder on each side.
        """
        if self.options.dry_run or not self._source_unchanged(folder):
            return False
        snapshot = self.ledger.snapshot(pair)
        source = self._source_status[folder.source_name]
        assert snapshot is not None
        destination = self._destination_status.get(folder.destination_name)
        if destination is None:
            return False
        lost = snapshot.destination_lost(
            destination.uidvalidity, destination.messages, destination.uidnext
        )
        if lost != 0:
            return False  # someone removed mail there (or may have): look again
        counts.total = source.messages
        if snapshot.by_this_job:
            counts.copied = snapshot.copied
            counts.present = snapshot.present
            counts.bytes_copied = snapshot.bytes_copied
        else:
            counts.present = source.messages
        return True
