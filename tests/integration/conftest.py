"""Sources filled once per session: the copy never changes a source, so tests share them."""

from __future__ import annotations

import pytest
from tests.corpus import Corpus, fill_source
from tests.dovecot import DovecotServer


@pytest.fixture(scope="session")
def corpus_source(dovecot_src: DovecotServer) -> tuple[str, Corpus]:
    """(user, corpus) on the '/' server."""
    user = "corpus-slash"
    client = dovecot_src.client(user)
    try:
        return user, fill_source(client, dovecot_src.separator, dovecot_src.prefix)
    finally:
        client.logout()


@pytest.fixture(scope="session")
def corpus_dot_source(dovecot_dot: DovecotServer) -> tuple[str, Corpus]:
    """(user, corpus) on the '.' + 'INBOX.' server."""
    user = "corpus-dot"
    client = dovecot_dot.client(user)
    try:
        return user, fill_source(client, dovecot_dot.separator, dovecot_dot.prefix)
    finally:
        client.logout()
