"""Our records as Mastodon's entities (https://docs.joinmastodon.org/entities/): ids are
strings, times are ISO 8601 with milliseconds in UTC, URLs are absolute."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from talentfed.config import Config
from talentfed.domain.profiles import ProfileCounts
from talentfed.storage.models import Actor

BOT_TYPES = frozenset({"Service", "Application"})


def iso(moment: datetime | None) -> str | None:
    """2026-12-06T22:38:11.000Z, as Mastodon writes times."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def acct(actor: Actor) -> str:
    """`user` for our members, `user@domain` for everyone else (Mastodon's `acct`)."""
    return actor.username if actor.local else actor.handle


def account(actor: Actor, counts: ProfileCounts, config: Config) -> dict[str, Any]:
    """An Account. Avatars and headers default to our own static images, as Mastodon's do."""
    static = f"{config.node.base_url}/static"
    avatar = actor.icon_url or f"{static}/avatar.svg"
    created = actor.published or actor.created_at
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": acct(actor),
        "display_name": actor.display_name or "",
        "locked": actor.manually_approves_followers,
        "bot": actor.type in BOT_TYPES,
        "group": actor.type == "Group",
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "created_at": iso(created.replace(hour=0, minute=0, second=0, microsecond=0)),  # a day, as Mastodon
        "note": actor.summary or "",
        "url": actor.url or actor.uri,
        "uri": actor.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": f"{static}/header.svg",
        "header_static": f"{static}/header.svg",
        "followers_count": counts.followers,
        "following_count": counts.following,
        "statuses_count": counts.posts,
        "last_status_at": None,
        "emojis": [],
        "fields": [
            {"name": field.get("name", ""), "value": field.get("value", ""), "verified_at": None}
            for field in actor.fields or []
        ],
    }
