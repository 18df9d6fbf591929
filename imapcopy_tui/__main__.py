"""Allow ``python -m imapcopy_tui``."""

from imapcopy_tui.cli import main

raise SystemExit(main())
