"""Reading a remote actor document into a `RemoteActor`.

Parsing is tolerant of shape (see `as_values`) but strict about what an actor
needs to be usable: an http(s) `id`, an actor `type` and an http(s) `inbox`,
each fitting our columns (`limits`). Every link kept is an http(s) URL: the
profile's `url`, `icon` and `image` are rendered as links and images.
Text fields are kept as sent (`summary` and field values are raw HTML:
sanitising happens where they are displayed). Booleans that are missing are
False, as Mastodon treats them (notably `discoverable` and `indexable`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from talentfed.federation.as_values import (
    PublicKey,
    as_list,
    bool_of,
    datetime_of,
    id_of,
    ids_of,
    public_keys,
    types_of,
    url_of,
)
from talentfed.federation.limits import MAX_IRI, MAX_NAME, http_url
from talentfed.federation.object_types import ACTOR_TYPES

__all__ = ["InvalidDocument", "ProfileField", "RemoteActor", "parse_actor"]


class InvalidDocument(ValueError):
    """The document cannot be used as an actor; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProfileField:
    name: str
    value: str  # raw HTML


@dataclass(frozen=True)
class RemoteActor:
    id: str
    type: str
    inbox: str
    preferred_username: str | None = None
    name: str | None = None
    summary: str | None = None
    url: str | None = None
    outbox: str | None = None
    followers: str | None = None
    following: str | None = None
    featured: str | None = None
    shared_inbox: str | None = None
    public_keys: tuple[PublicKey, ...] = ()
    manually_approves_followers: bool = False
    discoverable: bool = False
    indexable: bool = False
    published: datetime | None = None
    icon_url: str | None = None
    image_url: str | None = None  # the header picture
    fields: tuple[ProfileField, ...] = ()
    also_known_as: tuple[str, ...] = ()
    moved_to: str | None = None
    suspended: bool = False
    memorial: bool = False
    raw: MappingProxyType[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )


def _http_url(value: Any) -> str | None:
    """The referenced IRI if it is an http(s) URL that fits our columns; others are ignored."""
    return http_url(id_of(value))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _actor_type(doc: dict[str, Any]) -> str:
    found = next((t for t in types_of(doc) if t in ACTOR_TYPES), None)
    if found is None:
        raise InvalidDocument(f"type {doc.get('type')!r} is not an actor type")
    return found


def _shared_inbox(doc: dict[str, Any]) -> str | None:
    endpoints = doc.get("endpoints")
    if not isinstance(endpoints, dict):
        return None  # absent, or a bare IRI we would have to fetch
    return _http_url(endpoints.get("sharedInbox"))


def _fields(doc: dict[str, Any]) -> tuple[ProfileField, ...]:
    return tuple(
        ProfileField(name=item["name"], value=item["value"])
        for item in as_list(doc.get("attachment"))
        if isinstance(item, dict)
        and "PropertyValue" in types_of(item)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("value"), str)
    )


def _required(doc: dict[str, Any]) -> tuple[str, str, str]:
    """(id, type, inbox), or InvalidDocument naming the first problem."""
    actor_id = doc.get("id")
    if not actor_id:
        raise InvalidDocument("no id")
    if not http_url(actor_id):
        raise InvalidDocument(f"id {_not_a_link(actor_id)}")
    actor_type = _actor_type(doc)
    inbox = id_of(doc.get("inbox"))
    if not inbox:
        raise InvalidDocument("no inbox")
    if not http_url(inbox):
        raise InvalidDocument(f"inbox {_not_a_link(inbox)}")
    return actor_id, actor_type, inbox


def _not_a_link(value: Any) -> str:
    if isinstance(value, str) and len(value) > MAX_IRI:
        return f"{value[:60]!r}… is longer than {MAX_IRI} characters"
    return f"{value!r} is not an http(s) URL"


def _username(doc: dict[str, Any], actor_id: str) -> str | None:
    """`preferredUsername`; the handle it makes (or, without one, the id's last segment, which
    is used instead) must fit the `username` column."""
    name = _text(doc.get("preferredUsername")) or None
    fallback = urlsplit(actor_id).path.rstrip("/").rsplit("/", 1)[-1]  # as store_actor derives it
    if len(name or fallback) > MAX_NAME:
        raise InvalidDocument(f"a username longer than {MAX_NAME} characters")
    return name


def parse_actor(doc: Any) -> RemoteActor:
    """Read a parsed actor document; raises `InvalidDocument` if it is not a usable actor."""
    if not isinstance(doc, dict):
        raise InvalidDocument("not a JSON object")
    actor_id, actor_type, inbox = _required(doc)
    return RemoteActor(
        id=actor_id,
        type=actor_type,
        inbox=inbox,
        preferred_username=_username(doc, actor_id),
        name=_text(doc.get("name")),
        summary=_text(doc.get("summary")),
        url=url_of(doc.get("url")),
        outbox=_http_url(doc.get("outbox")),
        followers=_http_url(doc.get("followers")),
        following=_http_url(doc.get("following")),
        featured=_http_url(doc.get("featured")),
        shared_inbox=_shared_inbox(doc),
        public_keys=tuple(public_keys(doc)),
        manually_approves_followers=bool_of(doc.get("manuallyApprovesFollowers")),
        discoverable=bool_of(doc.get("discoverable")),
        indexable=bool_of(doc.get("indexable")),
        published=datetime_of(doc.get("published")),
        icon_url=url_of(doc.get("icon"), media_type=None),
        image_url=url_of(doc.get("image"), media_type=None),
        fields=_fields(doc),
        also_known_as=tuple(i for i in ids_of(doc.get("alsoKnownAs")) if http_url(i)),
        moved_to=_http_url(doc.get("movedTo")),
        suspended=bool_of(doc.get("suspended")),
        memorial=bool_of(doc.get("memorial")),
        raw=MappingProxyType(copy.deepcopy(doc)),
    )
