"""Our records as Mastodon's entities (https://docs.joinmastodon.org/entities/): ids are
strings, times are ISO 8601 with milliseconds in UTC, URLs are absolute."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from talentfed import kinds
from talentfed.config import Config
from talentfed.domain.post_counts import PostCounts
from talentfed.domain.profiles import ProfileCounts
from talentfed.federation.post_documents import article_summary, display_content, hashtag_name
from talentfed.storage.models import Actor, Interaction, Object
from talentfed.text import html_to_excerpt

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


# Our audiences as Mastodon names them.
VISIBILITY = {"public": "public", "unlisted": "unlisted", "followers": "private", "direct": "direct"}


def status(
    post: Object,
    author: Actor,
    author_counts: ProfileCounts,
    counts: PostCounts,
    config: Config,
    *,
    in_reply_to: Object | None = None,
    edited_at: datetime | None = None,
) -> dict[str, Any]:
    """A Status. Articles and project calls also carry a preview card linking their full page.
    `edited_at` is when an edit last changed what it shows (domain/post_history.py), else None."""
    url = post.url or post.uri
    return {
        "id": str(post.id),
        "uri": post.uri,
        "url": url,
        "created_at": iso(post.published),
        "edited_at": iso(edited_at),
        "account": account(author, author_counts, config),
        "content": _content(post),
        "text": None,
        "visibility": VISIBILITY.get(post.visibility, "direct"),
        "sensitive": post.sensitive,
        "spoiler_text": "",
        "language": post.language,
        "in_reply_to_id": str(in_reply_to.id) if in_reply_to is not None else None,
        "in_reply_to_account_id": str(in_reply_to.author_id) if in_reply_to is not None else None,
        "replies_count": counts.replies,
        "favourites_count": counts.likes,
        "reblogs_count": counts.boosts,
        "media_attachments": [],
        "mentions": [_mention(m) for m in (post.extra or {}).get("mentions") or [] if isinstance(m, dict)],
        "tags": [tag(name, config) for name in post.tags or []],
        "emojis": [],
        "reblog": None,
        "poll": None,
        "card": _card(post, config) if post.kind in CARD_KINDS else None,
        "application": None,
    }


CARD_KINDS = frozenset({kinds.ARTICLE, kinds.PROJECT})


def reblog(
    status_id: str, boost: Interaction, booster: dict[str, Any], original: dict[str, Any]
) -> dict[str, Any]:
    """A reblog as Mastodon shows one: a Status of its own (the booster's, with no text of its
    own) whose `reblog` is the original. What the reader did to the original (favourited,
    reblogged, bookmarked) shows on both, as on Mastodon."""
    wrapper = {
        **original,
        "id": status_id,
        "uri": boost.activity_uri or original["uri"],
        "created_at": iso(boost.created_at),
        "edited_at": None,
        "account": booster,
        "content": "",
        "visibility": "public",  # an Announce is addressed to the public
        "sensitive": False,
        "spoiler_text": "",
        "language": None,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "replies_count": 0,
        "favourites_count": 0,
        "reblogs_count": 0,
        "mentions": [],
        "tags": [],
        "card": None,
        "reblog": original,
    }
    wrapper.pop("pinned", None)
    return wrapper


def status_edit(version: Object, since: datetime, author: dict[str, Any]) -> dict[str, Any]:
    """A StatusEdit: one version of a status, shown from `since`, as `status` shows a post."""
    return {
        "content": _content(version),
        "spoiler_text": "",
        "sensitive": version.sensitive,
        "created_at": iso(since),
        "account": author,
        "poll": None,
        "media_attachments": [],
        "emojis": [],
    }


def _content(post: Object) -> str:
    """An article shows as its title, excerpt and link (its card has the rest); every other
    kind as Mastodon users see it (post_documents.display_content)."""
    if post.kind != kinds.ARTICLE:
        return display_content(post)
    url = escape(post.url or post.uri)
    title = f"<p><strong>{escape(post.name or '')}</strong></p>" if post.name else ""
    return f'{title}{article_summary(post)}<p><a href="{url}">{url}</a></p>'


def _card(post: Object, config: Config) -> dict[str, Any]:
    return {
        "url": post.url or post.uri,
        "title": post.name or "",
        "description": html_to_excerpt(post.summary or post.content or ""),
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": config.node.name,
        "provider_url": config.node.base_url,
        "html": "",
        "width": 0,
        "height": 0,
        "image": None,
        "embed_url": "",
        "blurhash": None,
    }


def tag(skill: str, config: Config) -> dict[str, str]:
    """A hashtag or skill as a status's Tag: named as the post's Hashtag tags name it."""
    name = hashtag_name(skill)
    return {"name": name, "url": f"{config.node.base_url}/tags/{name.lower()}"}


def _mention(entry: dict[str, Any]) -> dict[str, Any]:
    """A mention as stored with the post: its href and `@user@domain` name (no account id)."""
    name = str(entry.get("name") or "").lstrip("@")
    return {"id": "", "username": name.split("@")[0], "acct": name, "url": str(entry.get("href") or "")}
