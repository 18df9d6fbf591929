"""A checkbox whose state reads without colour."""

from __future__ import annotations

from textual.widgets import Checkbox


class Tickbox(Checkbox):
    """Textual's checkbox shows its X in both states, told apart by colour only; over an
    SSH session with few or no colours a ticked "do not check the certificate" (remembered
    from last time) would look like an unticked one.  Here: an X when ticked, a blank when
    not.  Queried as a ``Checkbox`` like any other."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        return "X" if self.value else " "
