"""The plan of a copy in words: where each folder goes and why, and what is skipped.

Shared by the front ends; the engine's :meth:`Copier.preview` makes the plan.
"""

from __future__ import annotations

from imapcopy_tui.engine.progress import CopyResult


def plan_lines(plan: CopyResult) -> list[str]:
    """One line per folder ("Envoyés -> Sent Items (the destination's Sent folder): 35
    messages"), then one per folder skipped or renamed, with why."""
    lines = []
    for folder in plan.folders:
        where = (
            folder.display_name
            if folder.destination_name == folder.display_name and not folder.note
            else f"{folder.display_name} -> {folder.destination_name}"
        )
        why = [folder.note] if folder.note else []
        if folder.created:
            why.append("new")
        detail = f" ({'; '.join(why)})" if why else ""
        count = f"{folder.total} message{'s' * (folder.total != 1)}"
        lines.append(f"{where}{detail}: {count}")
    lines.extend(f"! {issue}" for issue in plan.issues)
    return lines
