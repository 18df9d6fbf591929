"""The copy engine: connecting, folders and name mapping, copying. Knows nothing of Textual.

Only this package talks to IMAPClient; everything it raises is an
:mod:`imapcopy_tui.errors` type.
"""
