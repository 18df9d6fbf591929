"""imapcopy-tui: copy every message of one IMAP mailbox into another."""

__version__ = "0.1.0"
