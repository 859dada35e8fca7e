"""Our records as Mastodon's entities (https://docs.joinmastodon.org/entities/): ids are
strings, times are ISO 8601 with milliseconds in UTC, URLs are absolute."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, NamedTuple

from talentfed import kinds
from talentfed.config import Config
from talentfed.domain.markers import Marker
from talentfed.domain.notifications import MASTODON_TYPES, Group, Notification, group_key_of
from talentfed.domain.post_counts import PostCounts
from talentfed.domain.profiles import ProfileCounts
from talentfed.federation.post_documents import (
    article_summary,
    content_warning,
    display_content,
    hashtag_name,
    media_urls,
)
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, Interaction, MediaAttachment, Object
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


def account(
    actor: Actor, counts: ProfileCounts, config: Config, *, moved: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An Account. Avatars and headers default to our own static images, as Mastodon's do.
    `moved` is the Account it moved to, when it moved (Mastodon leaves the key out otherwise)."""
    static = f"{config.node.base_url}/static"
    avatar = actor.icon_url or f"{static}/avatar.svg"
    header = actor.image_url or f"{static}/header.svg"
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
        "header": header,
        "header_static": header,
        "followers_count": counts.followers,
        "following_count": counts.following,
        "statuses_count": counts.posts,
        "last_status_at": None,
        "emojis": [],
        "roles": [],  # the roles an account shows (Mastodon 4.1): we show none
        "fields": [
            {"name": field.get("name", ""), "value": field.get("value", ""), "verified_at": None}
            for field in actor.fields or []
        ],
    } | ({"moved": moved} if moved is not None else {})


class Parent(NamedTuple):
    """What a reply's Status says of the post it replies to."""

    id: int | None
    author_id: int | None


# Our audiences as Mastodon names them.
VISIBILITY = {"public": "public", "unlisted": "unlisted", "followers": "private", "direct": "direct"}


def status(
    post: Object,
    author: dict[str, Any],
    counts: PostCounts,
    config: Config,
    *,
    in_reply_to: Parent | None = None,
    media: Sequence[MediaAttachment] = (),
) -> dict[str, Any]:
    """A Status; `author` is its author's Account (`account`), built once for all of a page's
    statuses by the same author. Articles and project calls also carry a preview card linking
    their full page. `edited_at` is when an edit last changed what it shows
    (federation/post_edits.py), else None."""
    url = post.url or post.uri
    return {
        "id": str(post.id),
        "uri": post.uri,
        "url": url,
        "created_at": iso(post.published),
        "edited_at": iso(post.edited_at),
        "account": author,
        "content": _content(post),
        "text": None,
        "visibility": VISIBILITY.get(post.visibility, "direct"),
        "sensitive": post.sensitive,
        "spoiler_text": content_warning(post),
        "language": post.language,
        "in_reply_to_id": str(in_reply_to.id) if in_reply_to is not None else None,
        "in_reply_to_account_id": str(in_reply_to.author_id) if in_reply_to is not None else None,
        "replies_count": counts.replies,
        "favourites_count": counts.likes,
        "reblogs_count": counts.boosts,
        "media_attachments": [media_attachment(item, config) for item in media],
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
        "spoiler_text": content_warning(version),
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
        "authors": [],  # fediverse authors of the linked page (Mastodon 4.3): none
    }


def tag(skill: str, config: Config) -> dict[str, str]:
    """A hashtag or skill as a status's Tag: named as the post's Hashtag tags name it."""
    name = hashtag_name(skill)
    return {"name": name, "url": f"{config.node.base_url}/tags/{name.lower()}"}


def hashtag(skill: str, config: Config) -> dict[str, Any]:
    """A skill or hashtag as the Tag entity of search results and suggestions (no usage kept)."""
    return {**tag(skill, config), "history": []}


def _mention(entry: dict[str, Any]) -> dict[str, Any]:
    """A mention as stored with the post: its href and `@user@domain` name (no account id)."""
    name = str(entry.get("name") or "").lstrip("@")
    return {"id": "", "username": name.split("@")[0], "acct": name, "url": str(entry.get("href") or "")}


def notification(item: Notification, account: dict[str, Any], shown: dict[str, Any] | None) -> dict[str, Any]:
    """A Notification, with the Account of who did it and the Status it shows, if any."""
    entity = {
        "id": item.key.id,
        "type": MASTODON_TYPES[item.kind],
        "created_at": iso(item.at),
        "group_key": group_key_of(item),
        "account": account,
    }
    if shown is not None:
        entity["status"] = shown
    return entity


def notification_group(group: Group, status_id: int | None, *, paged: bool) -> dict[str, Any]:
    """A NotificationGroup (grouped notifications, API v2); its accounts and status are named
    by id, and listed once beside the groups. Notification ids are strings, as everywhere."""
    entity: dict[str, Any] = {
        "group_key": group.key,
        "notifications_count": group.count,
        "type": MASTODON_TYPES[group.latest.kind],
        "most_recent_notification_id": group.latest.key.id,
    }
    if paged:  # what the group holds within the page read
        entity["page_min_id"] = group.page_oldest.id
        entity["page_max_id"] = group.latest.key.id
        entity["latest_page_notification_at"] = iso(group.latest.at)
    entity["sample_account_ids"] = [str(actor_id) for actor_id in group.sample_ids]
    if status_id is not None:
        entity["status_id"] = str(status_id)
    return entity


PARTIAL_ACCOUNT = ("id", "acct", "locked", "bot", "url", "avatar", "avatar_static")


def partial_account(full: dict[str, Any]) -> dict[str, Any]:
    """A PartialAccountWithAvatar: what a list of avatars needs of an Account."""
    return {name: full[name] for name in PARTIAL_ACCOUNT}


def marker(position: Marker) -> dict[str, Any]:
    return {
        "last_read_id": position.last_read_id,
        "version": position.version,
        "updated_at": iso(position.updated_at),
    }


def media_attachment(media: MediaAttachment, config: Config) -> dict[str, Any]:
    """A MediaAttachment: our pictures with their sizes, a remote post's by its URL alone."""
    url, preview_url = media_urls(media, LocalURIs(config.node.base_url))
    meta: dict[str, Any] = {}
    if media.width and media.height:
        meta["original"] = _size(media.width, media.height)
    if media.preview_width and media.preview_height:
        meta["small"] = _size(media.preview_width, media.preview_height)
    if media.focus_x is not None and media.focus_y is not None:
        meta["focus"] = {"x": media.focus_x, "y": media.focus_y}
    return {
        "id": str(media.id),
        "type": media.type,
        "url": url,
        "preview_url": preview_url,
        "remote_url": media.remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description,
        "blurhash": media.blurhash,
    }


def _size(width: int, height: int) -> dict[str, Any]:
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}
