"""Local records rendered as ActivityStreams documents (what we publish and send)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

from talentfed.federation.as_values import timestamp
from talentfed.federation.context import PUBLISHED_CONTEXT
from talentfed.federation.uris import LocalURIs
from talentfed.federation.vocabulary.writing import write_terms
from talentfed.storage.media_files import MEDIA_TYPES
from talentfed.storage.models import Actor


def actor_document(actor: Actor, uris: LocalURIs, *, institution: Actor | None = None) -> dict[str, Any]:
    """A local member (Person) or the institution (Organization) as Mastodon reads actors."""
    username = actor.username
    document: dict[str, Any] = {
        "@context": PUBLISHED_CONTEXT,
        "id": actor.uri,
        "type": actor.type,
        "preferredUsername": username,
        "name": actor.display_name or username,
        "summary": actor.summary or "",
        "url": uris.profile_page(username),
        "inbox": uris.inbox(username),
        "outbox": uris.outbox(username),
        "followers": uris.followers(username),
        "following": uris.following(username),
        "featured": uris.featured(username),
        "endpoints": {"sharedInbox": uris.shared_inbox},
        "publicKey": {
            "id": uris.key_id(username),
            "owner": actor.uri,
            "publicKeyPem": actor.public_key_pem,
        },
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "published": timestamp(actor.published or actor.created_at),
        "attachment": [_property_value(field["name"], field["value"]) for field in actor.fields or []],
    }
    document.update(write_terms(_term_values(actor, institution), "actor"))
    document.update(_migration_links(actor))
    for key, url in (("icon", actor.icon_url), ("image", actor.image_url)):
        if url:
            document[key] = image_link(url)
    return document


def _migration_links(actor: Actor) -> dict[str, Any]:
    """`alsoKnownAs` (the accounts a member moves in from) and `movedTo`, as Mastodon writes
    them: ids only, and only when there are any (`alsoKnownAs` is in the ActivityStreams
    context; `movedTo` is defined in ours, federation/context.py)."""
    links: dict[str, Any] = {}
    if actor.also_known_as:
        links["alsoKnownAs"] = list(actor.also_known_as)
    if actor.moved_to_uri:
        links["movedTo"] = actor.moved_to_uri
    return links


def image_link(url: str) -> dict[str, Any]:
    """An avatar or header as Mastodon publishes it: an Image with its type when the URL's
    extension tells it (ours always do: storage/media_files.py names them)."""
    link: dict[str, Any] = {"type": "Image", "url": url}
    media_type = MEDIA_TYPES.get(urlsplit(url).path.rsplit(".", 1)[-1].lower())
    if media_type:
        link["mediaType"] = media_type
    return link


def _term_values(actor: Actor, institution: Actor | None) -> dict[str, object]:
    """Our values of talentfed's actor terms, by field (the institution is nobody's affiliate
    of itself)."""
    return {
        "skills": actor.skills,
        "open_to_collaboration": actor.open_to_collaboration,
        "headline": actor.headline or None,
        "department": actor.department or None,
        "affiliation": institution.uri if institution is not None and institution.id != actor.id else None,
    }


# What an unsigned fetch may see of an actor under authorized fetch (as Mastodon's secure mode).
TECHNICAL_ATTRIBUTES = (
    "@context",
    "id",
    "type",
    "preferredUsername",
    "inbox",
    "outbox",
    "followers",
    "following",
    "featured",
    "endpoints",
    "publicKey",
    "url",
    "manuallyApprovesFollowers",
)


def technical_actor_document(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in TECHNICAL_ATTRIBUTES if key in document}


def _property_value(name: str, value: str) -> dict[str, Any]:
    """A profile field; URLs become links, as Mastodon renders its own fields."""
    if value.startswith(("https://", "http://")):
        shown = escape(value.split("://", 1)[1])
        value = f'<a href="{escape(value)}" rel="me nofollow noopener noreferrer" target="_blank">{shown}</a>'
    else:
        value = escape(value)
    return {"type": "PropertyValue", "name": name, "value": value}
