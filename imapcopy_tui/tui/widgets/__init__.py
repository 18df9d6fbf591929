"""Reusable widgets and small helpers shared by the screens."""

from __future__ import annotations

from textual.widgets import Static


def show_message(widget: Static, text: str) -> None:
    """Put ``text`` in a message line and show it; an empty text hides the line."""
    widget.update(text)
    widget.display = bool(text)
