"""Who may pass a post on (boost, Announce): one rule for our members and for other servers,
so it lives below both the domain layer (publishing) and the protocol layer (the inbox).

As Mastodon (`StatusPolicy#reblog?`, and the inbox's check on an incoming Announce): a post anyone
may read may be boosted by anyone who reads it; a followers-only post only by its author, to the
same followers; a direct post by nobody. Boosting never widens a post's audience.
"""

from __future__ import annotations

OPEN = ("public", "unlisted")  # readable by anyone (domain/visibility.py reads it from here)


def may_boost(visibility: str, author_id: int, booster_id: int) -> bool:
    """Whether `booster_id` may boost a post of `visibility` written by `author_id` (reading it
    is checked apart: domain/visibility.py)."""
    if visibility in OPEN:
        return True
    return visibility == "followers" and author_id == booster_id
