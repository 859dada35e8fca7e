"""Secrets we hand out once and keep only as hashes: API tokens, invitation links, OAuth client
secrets, codes and tokens. One rule for all of them: random, URL-safe, stored as SHA-256 hex."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(nbytes: int = 32) -> str:
    """A random URL-safe token; shown to its holder once, never stored."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256, hex (a lookup by equality finds it)."""
    return hashlib.sha256(secret.encode()).hexdigest()
