"""The ``imapcopy`` command (its entry point, and ``python -m imapcopy_tui``): loads the
program, then runs it.

Loading it makes tens of thousands of objects that live as long as the process (modules,
classes, functions); the cycle collector, run every 700 of them, would walk them all again
and again for nothing: about 6% of the start-up, which every run pays.  So it is off while
the program loads, and back on before anything runs.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``imapcopy`` command (see :func:`imapcopy_tui.cli.main`)."""
    gc.disable()
    try:
        from imapcopy_tui.cli import main as run
    finally:
        gc.enable()
    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
