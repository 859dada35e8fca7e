"""Builders for the activities we send. Ids are fresh URLs under our domain."""

from __future__ import annotations

import uuid
from typing import Any

from talentfed.config import Config
from talentfed.federation.context import PUBLISHED_CONTEXT, published
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor


def new_activity_id(config: Config) -> str:
    return LocalURIs(config.node.base_url).activity(uuid.uuid4().hex)


def build(config: Config, activity_type: str, actor: Actor, obj: object, **fields: object) -> dict[str, Any]:
    document = {
        "@context": PUBLISHED_CONTEXT,
        "id": fields.pop("id", None) or new_activity_id(config),
        "type": activity_type,
        "actor": actor.uri,
        "object": obj,
    }
    document.update(fields)
    return published(document)  # an embedded object's own @context goes


def follow_object(follow_id: str, follower_uri: str, target_uri: str) -> dict[str, Any]:
    """The Follow as it is embedded in Accept, Reject and Undo (Mastodon matches on it)."""
    return {"id": follow_id, "type": "Follow", "actor": follower_uri, "object": target_uri}


def follow(config: Config, follower: Actor, target: Actor) -> dict[str, Any]:
    return build(config, "Follow", follower, target.uri, to=[target.uri])


def answer_follow(
    config: Config, verdict: str, target: Actor, follower: Actor, follow_id: str
) -> dict[str, Any]:
    """Accept or Reject, from the followed actor, with the Follow embedded."""
    embedded = follow_object(follow_id, follower.uri, target.uri)
    return build(config, verdict, target, embedded, to=[follower.uri])


def undo_follow(config: Config, follower: Actor, target: Actor, follow_id: str) -> dict[str, Any]:
    return build(
        config, "Undo", follower, follow_object(follow_id, follower.uri, target.uri), to=[target.uri]
    )


def block(config: Config, blocker: Actor, target: Actor) -> dict[str, Any]:
    """A Block, addressed to the blocked actor only (Mastodon sends one so that the other
    server can hide the blocker's posts from them and stop them from reaching the blocker)."""
    return build(config, "Block", blocker, target.uri, to=[target.uri])


def undo_block(config: Config, blocker: Actor, target: Actor, block_id: str) -> dict[str, Any]:
    embedded = {"id": block_id, "type": "Block", "actor": blocker.uri, "object": target.uri}
    return build(config, "Undo", blocker, embedded, to=[target.uri])


def flag(
    config: Config, institution: Actor, target: Actor, post_uris: list[str], comment: str
) -> dict[str, Any]:
    """A report forwarded to the reported account's server, as Mastodon sends one: from the
    node (its institution actor), never from the member who reported, naming the account first
    and then the posts, with the comment as `content`."""
    return build(config, "Flag", institution, [target.uri, *post_uris], content=comment, to=[target.uri])


def move(config: Config, origin: Actor, target: Actor) -> dict[str, Any]:
    """The origin tells its followers it now lives at `target` (as Mastodon: object = actor)."""
    return build(config, "Move", origin, origin.uri, target=target.uri, to=[origin.followers_url])
