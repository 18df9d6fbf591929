"""The benchmark harness: imapcopy against mbsync between two local Dovecot servers.

Run by hand (``python bench/run.py``), never in CI; see ``bench/README.md``.
"""
