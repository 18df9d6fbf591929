"""Properties of the folder mapping, over folder names hypothesis makes up.

What no example list covers well: any name (separators, ``&``, quotes, non-ASCII, case),
on servers with either separator and with or without an ``INBOX.`` prefix.
"""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st
from imapclient.imap_utf7 import decode as decode_utf7
from imapclient.imap_utf7 import encode as encode_utf7

from imapcopy_tui.engine.folders import INBOX, SEPARATOR_STAND_IN, Namespace, plan_folders
from imapcopy_tui.engine.session import RawFolder, _status_replies

NAMESPACES = (
    Namespace(prefix="", separator="/"),
    Namespace(prefix="INBOX.", separator="."),
    Namespace(prefix="", separator="."),
    Namespace(prefix="INBOX/", separator="/"),
)
namespaces = st.sampled_from(NAMESPACES)

# Folder name parts: any text, with the characters that matter over-represented.
tricky = st.sampled_from(["/", ".", "&", "&-", "~", '"', "\\", "%", "*", " ", "é", "日本",
                          "INBOX", "inbox", "_", "_2", "W", "w", "\r\n", "\x00", "😀"])
parts = st.lists(st.one_of(tricky, st.text(min_size=1, max_size=4)), min_size=1, max_size=3)
part = parts.map("".join)


@given(namespaces, st.lists(part, min_size=1, max_size=4).map(tuple))
def test_folder_names_round_trip_with_the_separator_replaced(
    ns: Namespace, name_parts: tuple[str, ...]
) -> None:
    """Parts → server name → parts gives the parts back, except that a separator inside a
    part has become the stand-in (it would split the folder)."""
    if name_parts[0].upper() == INBOX:  # INBOX and its children map on their own rules
        name_parts = ("x" + name_parts[0],) + name_parts[1:]
    clean = tuple(p.replace(ns.separator, SEPARATOR_STAND_IN) for p in name_parts)
    name = ns.name(name_parts)
    assert name.startswith(ns.prefix)
    assert ns.parts(name) == clean


@given(namespaces, namespaces, st.lists(st.lists(part, min_size=1, max_size=3), max_size=12))
@example(NAMESPACES[0], NAMESPACES[1], [["a.b"], ["a_b"], ["a_b_2"], ["INBOX", "x"], ["x"]])
@example(NAMESPACES[0], NAMESPACES[0], [["Work"], ["work"], ["WORK"], ["work_2"]])
@example(NAMESPACES[1], NAMESPACES[0], [["INBOX", "a/b"], ["INBOX", "a_b"], ["a_b"]])
@example(NAMESPACES[0], NAMESPACES[0], [["\u212a"], ["k"]])  # KELVIN SIGN folds to "k"
@example(NAMESPACES[0], NAMESPACES[1], [["INBOX", "INBOX"], ["INBOX", "inbox", "x"]])
def test_no_two_source_folders_share_a_destination_folder(
    source_ns: Namespace, destination_ns: Namespace, folders: list[list[str]]
) -> None:
    """Whatever the names, every listed source folder is planned once, into a destination
    name of its own, even on a destination that ignores case; INBOX comes first and every
    name is inside the destination's namespace."""
    names = {source_ns.name(tuple(p)) for p in folders} | {"INBOX"}
    raw = [RawFolder(n, source_ns.separator, frozenset()) for n in sorted(names)]
    plan = plan_folders(raw, source_ns, destination_ns)
    listed = [r.name for r in raw if any(source_ns.parts(r.name))]
    assert sorted(f.source_name for f in plan) == sorted(listed)
    destinations = [f.destination_name.casefold() for f in plan]
    assert len(destinations) == len(set(destinations))
    assert plan[0].destination_name == "INBOX"
    for folder in plan[1:]:
        assert folder.destination_name.startswith(destination_ns.prefix)


@given(part)
@example("R&D")
@example("&Jjo-")  # looks encoded already: must come back as typed
@example("&")
def test_modified_utf7_round_trip(name: str) -> None:
    """Folder names go out in modified UTF-7 (RFC 3501 5.1.3) and come back the same:
    printable ASCII stays itself, '&' becomes '&-', the rest is base64 in '&...-'."""
    encoded = encode_utf7(name)
    assert re.fullmatch(rb"(?:[\x20-\x25\x27-\x7e]|&-|&[A-Za-z0-9+,]+-)*", encoded)
    assert decode_utf7(encoded) == name


@given(part, st.integers(1, 2**32 - 1))
@example('quote"d \\ back', 7)
def test_status_replies_are_matched_to_any_folder_name(name: str, validity: int) -> None:
    """A STATUS reply names its folder quoted (with escapes) or as a literal, in modified
    UTF-7: it is matched back to the folder whatever the name holds."""
    encoded = encode_utf7(name)
    items = b" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY %d)" % validity
    quoted = b'"' + encoded.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    key = "INBOX" if name.upper() == "INBOX" else name
    for replies in ([quoted + items], [(b"{%d}" % len(encoded), encoded), items]):
        found = _status_replies(replies)
        assert found[key].uidvalidity == validity and found[key].messages == 3
