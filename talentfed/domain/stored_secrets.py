"""Secrets we hand out once and keep only as hashes: API tokens, invitation links, OAuth client
secrets, codes and tokens. One rule for all of them: random, URL-safe, stored as SHA-256 hex."""

from __future__ import annotations

import hashlib
import re
import secrets


def new_secret(nbytes: int = 32) -> str:
    """A random URL-safe token; shown to its holder once, never stored."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256, hex (a lookup by equality finds it)."""
    return hashlib.sha256(secret.encode()).hexdigest()


_DRAWN = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")  # what new_secret draws, with room to spare


def could_be_drawn(text: str) -> bool:
    """`text` could be a secret or id we drew: anything else (a NUL, a surrogate, a megabyte) is
    looked up nowhere, so no query carries it."""
    return bool(_DRAWN.match(text))
