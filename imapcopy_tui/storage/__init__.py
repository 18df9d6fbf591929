"""Local state: the SQLite job store (jobs, live progress, copied-message ledger)."""
