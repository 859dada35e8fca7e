"""What each incoming activity does, once the inbox has authenticated it.

`read` turns what an activity carries (a post, an updated actor) into typed values before the
write transaction opens: JSON-LD expansion, sanitising and Markdown are the costly part, and
the transaction is shared with other activities (group commit). Each handler then receives
the sender (a stored Actor, already known to be the activity's actor) and that reading in an
open transaction, and returns a short text for the log and the 202 body.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed import audiences
from talentfed.config import Config
from talentfed.federation import account_blocks, blocking, following, moves, outbox
from talentfed.federation.actor_documents import InvalidDocument, RemoteActor, parse_actor
from talentfed.federation.as_values import id_of, types_of
from talentfed.federation.blocks import DomainPolicies, DomainPolicy, domain_policies
from talentfed.federation.flags import read_flag, store_flag
from talentfed.federation.object_types import ACTOR_TYPES
from talentfed.federation.post_reader import IncomingPost, UnsupportedObject, carried_objects, read_post
from talentfed.federation.post_store import (
    IngestError,
    actor_id_named,
    forget_lookups,
    forget_posts,
    post_named,
    store_post,
)
from talentfed.federation.remote_actors import RemoteActors, store_actor
from talentfed.storage.db import rowcount
from talentfed.storage.models import AccountBlock, Activity, Actor, Follow, Interaction, Object, utcnow
from talentfed.storage.reactions import KIND_OF_VERB, record_reaction

logger = logging.getLogger("talentfed.inbox")


class Invalid(ValueError):
    """The activity is malformed in a way that deserves a 400."""


@dataclass(frozen=True)
class Reading:
    """What a Create or Update carries, read before the transaction (`read`)."""

    post: IncomingPost | None = None
    not_a_post: str = ""  # why the carried object is not a post we keep
    actor: RemoteActor | None = None  # an Update of an actor


@dataclass
class Context:
    session: AsyncSession
    config: Config
    sender: Actor
    recipient: str | None  # username of the personal inbox it came to, if any
    actors: RemoteActors
    reading: Reading | None = None  # None: read when the handler needs it
    # The domain policies as the inbox read them (cached, see blocks.CachedPolicies) when it let
    # the activity in; None: read from the database when a handler needs them.
    policies: DomainPolicies | None = None


def read(activity: dict[str, Any]) -> Reading:
    """Read the object a Create or Update embeds; raises Invalid for a malformed one."""
    if not {"Create", "Update"} & set(types_of(activity)):
        return Reading()
    obj = _carried(activity)
    if obj is None:
        return Reading()
    if "Update" in types_of(activity) and set(types_of(obj)) & ACTOR_TYPES:
        try:
            return Reading(actor=parse_actor(obj))
        except InvalidDocument as exc:
            raise Invalid(f"updated actor: {exc}") from None
    try:
        return Reading(post=read_post(obj))
    except UnsupportedObject as exc:
        return Reading(not_a_post=str(exc))


def _reading(context: Context, activity: dict[str, Any]) -> Reading:
    return context.reading if context.reading is not None else read(activity)


async def _sender_policy(context: Context) -> DomainPolicy:
    """Whether the sender's domain has its media rejected: the policy the inbox admitted the
    activity under, rather than a query per activity in the shared transaction."""
    policies = context.policies
    if policies is None:
        policies = await domain_policies(context.session, context.config)
    return policies.for_domain(context.sender.domain)


Handler = Callable[[Context, dict[str, Any]], Awaitable[str]]
_HANDLERS: dict[str, Handler] = {}


def handles(activity_type: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        _HANDLERS[activity_type] = function
        return function

    return register


async def dispatch(context: Context, activity: dict[str, Any]) -> str:
    for activity_type in types_of(activity):
        handler = _HANDLERS.get(activity_type)
        if handler is not None:
            return await handler(context, activity)
    logger.info("stored %s of unhandled type %s", activity.get("id"), activity.get("type"))
    return f"activity type {activity.get('type')!r} is not handled; stored"


def _embedded(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _carried(activity: dict[str, Any]) -> dict[str, Any] | None:
    """The object a Create or Update embeds, with the activity's @context handed down: senders
    (talentfed among them) define their terms once, on the activity."""
    objects = carried_objects(activity)
    return objects[0] if objects else None


# --- reports ---------------------------------------------------------------------------


@handles("Flag")
async def on_flag(context: Context, activity: dict[str, Any]) -> str:
    return await store_flag(context.session, context.config, context.sender, read_flag(activity))


# --- follows ---------------------------------------------------------------------------


@handles("Follow")
async def on_follow(context: Context, activity: dict[str, Any]) -> str:
    session, sender = context.session, context.sender
    target = await following.member_named(session, id_of(activity.get("object")))
    if target is None:
        return "follow of an actor that is not ours; ignored"
    if await following.block_stands(session, sender, target):
        # As Mastodon: refused with a Reject, and no request is kept.
        await session.execute(
            delete(Follow).where(Follow.follower_id == sender.id, Follow.followed_id == target.id)
        )
        following.note_edge(session, sender, target, None)
        await _answer_follow(context, "Reject", target, activity["id"])
        return "follow refused: a block stands"
    follow = await following.find_follow(session, sender, target)
    if follow is None:
        if session.deleted:
            # An Undo of this batch may have dropped the same edge: its DELETE must reach the
            # database before this INSERT (the pair is unique), and no lookup flushed it.
            await session.flush()
        follow = Follow(follower_id=sender.id, followed_id=target.id, state="pending")
        session.add(follow)
    follow.uri = activity["id"]  # a repeated Follow replaces the id we answer to
    following.note_edge(session, sender, target, follow)
    if follow.state != "accepted" and target.manually_approves_followers:
        return "follow request pending approval"
    follow.state, follow.accepted_at = "accepted", follow.accepted_at or utcnow()
    await _answer_follow(context, "Accept", target, activity["id"])
    return "follow accepted"


async def _answer_follow(context: Context, verdict: str, target: Actor, follow_id: str) -> None:
    """Queued under the policies the inbox read, and written with the rest of the batch."""
    await outbox.answer_follow(
        context.session,
        context.config,
        verdict,
        target,
        context.sender,
        follow_id,
        policies=context.policies,
        flush=False,
    )


async def _match_our_follow(context: Context, obj: object) -> Follow | None:
    """Our Follow that an Accept/Reject answers: by its id, then by actor and object (as Mastodon)."""
    session, sender = context.session, context.sender
    follow_id = id_of(obj)
    if follow_id:
        follow = await session.scalar(
            select(Follow).where(Follow.uri == follow_id, Follow.followed_id == sender.id)
        )
        if follow is not None:
            return follow
    embedded = _embedded(obj)
    follower = await following.member_named(session, id_of(embedded.get("actor")) if embedded else None)
    if follower is None:
        return None
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followed_id == sender.id)
    )


@handles("Accept")
async def on_accept(context: Context, activity: dict[str, Any]) -> str:
    follow = await _match_our_follow(context, activity.get("object"))
    if follow is None:
        return "accept of nothing we asked for; ignored"
    if follow.state != "accepted":
        follow.state, follow.accepted_at = "accepted", utcnow()
    return "our follow was accepted"


@handles("Reject")
async def on_reject(context: Context, activity: dict[str, Any]) -> str:
    follow = await _match_our_follow(context, activity.get("object"))
    if follow is None:
        return "reject of nothing we asked for; ignored"
    await context.session.delete(follow)
    return "our follow was rejected"


@handles("Undo")
async def on_undo(context: Context, activity: dict[str, Any]) -> str:
    session, sender = context.session, context.sender
    obj = activity.get("object")
    undone_id = id_of(obj)
    embedded = _embedded(obj) or {}
    if id_of(embedded.get("actor")) not in (None, sender.uri):
        raise Invalid("Undo of another actor's activity")
    kinds = set(types_of(embedded))
    if "Block" in kinds or not kinds:
        lifted = await _undo_block(context, undone_id, embedded)
        if lifted:
            return "block undone"
    if "Follow" in kinds or not kinds:
        follow = None
        if undone_id:  # `uri == None` would be `uri IS NULL`: match nothing on a missing id
            follow = await following.follow_by_uri(session, undone_id, sender)
        if follow is None and "Follow" in kinds:
            target = await following.member_named(session, id_of(embedded.get("object")))
            if target is not None:
                follow = await following.find_follow(session, sender, target)
        if follow is not None:
            if inspect(follow).pending:
                await session.flush()  # made by a Follow of this batch: only a stored row is deleted
            await session.delete(follow)  # the batch's lookups see it gone (`following._live`)
            return "follow undone"
        if "Follow" in kinds:
            # As Mastodon: an Undo of a Follow undoes a follow or nothing, never a like or boost.
            return "undo of nothing we know; ignored"
    undone = 0
    # Without an id, `activity_uri == None` would delete every interaction of the sender that
    # was recorded without an activity id: only the embedded Like or Announce can say which.
    if undone_id:
        undone = rowcount(
            await session.execute(
                delete(Interaction).where(
                    Interaction.activity_uri == undone_id, Interaction.actor_id == sender.id
                )
            )
        )
    if not undone:
        undone = await _undo_reaction(context, undone_id, kinds, id_of(embedded.get("object")))
    return "interaction undone" if undone else "undo of nothing we know; ignored"


async def _undo_reaction(
    context: Context, undone_id: str | None, types: set[str], object_uri: str | None
) -> int:
    """Undo of a Like or Announce whose id names no stored edge: a second Like of a post by the
    same actor was dropped as the same like (storage/reactions.py), and undoing either takes
    the like back, as Mastodon matches an Undo(Like) by account and post. What was undone comes
    from the embedded activity, else from the stored one of that id. Returns how many rows went."""
    session, sender = context.session, context.sender
    if not (types and object_uri) and undone_id:
        stored = (
            await session.execute(
                select(Activity.type, Activity.object_uri).where(
                    Activity.uri == undone_id, Activity.actor_uri == sender.uri
                )
            )
        ).first()
        if stored is not None:
            types, object_uri = {stored.type}, stored.object_uri
    kinds = [KIND_OF_VERB[t] for t in types if t in KIND_OF_VERB]
    if len(kinds) != 1 or not object_uri:
        return 0
    post_id = select(Object.id).where(Object.uri == object_uri).scalar_subquery()
    result = await session.execute(
        delete(Interaction).where(
            Interaction.kind == kinds[0], Interaction.actor_id == sender.id, Interaction.object_id == post_id
        )
    )
    return rowcount(result)


# --- blocks ----------------------------------------------------------------------------


@handles("Block")
async def on_block(context: Context, activity: dict[str, Any]) -> str:
    """The sender blocks one of our members (Mastodon's Block handler): the follows between
    them end and the block is kept, so that the sender no longer reaches the member and the
    member no longer sees the sender's posts (domain/visibility.py)."""
    target = await following.member_named(context.session, id_of(activity.get("object")))
    if target is None:
        return "block of an actor that is not ours; ignored"
    if target.id == context.sender.id:
        raise Invalid("an actor cannot block itself")
    await blocking.record_block(context.session, context.config, context.sender, target, activity["id"])
    following.forget_follow_lookups(context.session)  # follows ended, a block stands
    return "block recorded"


async def _undo_block(context: Context, undone_id: str | None, embedded: dict[str, Any]) -> bool:
    """Lift the sender's block that an Undo names, by the Block's id or by its object."""
    session, sender = context.session, context.sender
    block = None
    if undone_id:
        block = await session.scalar(
            select(AccountBlock).where(AccountBlock.uri == undone_id, AccountBlock.blocker_id == sender.id)
        )
    if block is None:
        target = await following.member_named(session, id_of(embedded.get("object")))
        if target is not None:
            block = await account_blocks.find_block(session, sender.id, target.id)
    if block is None:
        return False
    await session.delete(block)
    following.forget_follow_lookups(session)
    return True


# --- actors ----------------------------------------------------------------------------


@handles("Update")
async def on_update(context: Context, activity: dict[str, Any]) -> str:
    if _carried(activity) is None:
        return "update without an embedded object; ignored"
    reading = _reading(context, activity)
    if reading.actor is None:
        return await _store_post(context, reading, "post updated")
    remote = reading.actor
    if remote.id != context.sender.uri:
        raise Invalid("an actor can only update itself")
    policy = await _sender_policy(context)
    await store_actor(context.session, remote, keep_media=not policy.media_rejected)
    context.actors.forget(remote.id)
    return "actor updated"


@handles("Move")
async def on_move(context: Context, activity: dict[str, Any]) -> str:
    """The sender moved: our members who followed it follow its new account (the inbox has
    fetched the target afresh before the transaction; the rules are federation/moves.py)."""
    session, sender = context.session, context.sender
    try:
        claim = moves.read_move(activity)
        target = await session.scalar(select(Actor).where(Actor.uri == claim.target))
        if target is None:
            raise moves.MoveRefused(f"the target {claim.target} is not known here")
        moves.check_target(sender.uri, target)
    except moves.MoveRefused as exc:
        raise Invalid(str(exc)) from None
    sender.moved_to_uri = target.uri
    carried = await moves.carry_followers(session, context.config, sender, target)
    following.forget_follow_lookups(session)
    context.actors.forget(sender.uri)
    return f"move recorded; {carried} local followers now follow the new account"


@handles("Delete")
async def on_delete(context: Context, activity: dict[str, Any]) -> str:
    session, sender = context.session, context.sender
    object_id = id_of(activity.get("object"))
    if object_id == sender.uri:
        await session.delete(sender)  # follows, posts and interactions cascade
        forget_lookups(session)
        following.forget_follow_lookups(session)
        context.actors.forget(sender.uri)
        return "actor deleted"
    forgotten = await forget_posts(session, Object.uri == object_id, Object.author_id == sender.id)
    return "object deleted" if forgotten else "delete of nothing we know; ignored"


# --- posts and interactions --------------------------------------------------------------


async def _store_post(context: Context, reading: Reading, done: str) -> str:
    """Create/Update of a post: stored (sanitised) with its talentfed fields, if its author sent it."""
    incoming = reading.post
    if incoming is None:
        return f"not a post ({reading.not_a_post}); stored the activity only"
    if incoming.attributed_to != context.sender.uri:
        raise Invalid("the post is not attributed to the activity's actor")
    try:
        policy = await _sender_policy(context)
        post = await store_post(
            context.session, incoming, context.sender, keep_media=not policy.media_rejected
        )
    except IngestError as exc:
        raise Invalid(str(exc)) from None
    await _record_thread_edges(context, post, incoming.mentions)
    return done


async def _record_thread_edges(context: Context, post: Object, mentions: tuple[str, ...]) -> None:
    """Replies and mentions are edges of the observed graph (and answers to our questions).

    A post new in this transaction has no edges yet, and its edges name it through `post`: one
    flush writes the posts and edges of a whole batch. The parent and the mentioned actors come
    from the batch's lookups (`post_store.note_named`).
    """
    session, sender = context.session, context.sender
    if not (post.in_reply_to_uri or mentions):
        return
    new = inspect(post).pending
    if post.in_reply_to_uri:
        parent = await post_named(session, post.in_reply_to_uri)
        if parent is not None and (
            new or not await _has_edge(session, "reply", sender.id, object_id=post.id)
        ):
            session.add(
                Interaction(kind="reply", actor_id=sender.id, post=post, target_actor_id=parent.author_id)
            )
    for actor_uri in mentions:
        target = await actor_id_named(session, actor_uri)
        if target is not None and (
            new
            or not await _has_edge(session, "mention", sender.id, object_id=post.id, target_actor_id=target)
        ):
            session.add(Interaction(kind="mention", actor_id=sender.id, post=post, target_actor_id=target))


async def _has_edge(session: AsyncSession, kind: str, actor_id: int, **where: int) -> bool:
    query = select(Interaction.id).where(Interaction.kind == kind, Interaction.actor_id == actor_id)
    for column, value in where.items():
        query = query.where(getattr(Interaction, column) == value)
    return await session.scalar(query.limit(1)) is not None


@handles("Create")
async def on_create(context: Context, activity: dict[str, Any]) -> str:
    if _carried(activity) is not None:
        return await _store_post(context, _reading(context, activity), "post stored")
    post = await context.session.scalar(select(Object).where(Object.uri == id_of(activity.get("object"))))
    if post is None:
        return "create of an object we could not fetch; stored the activity only"
    await _record_thread_edges(context, post, _stored_mentions(post))
    return "post stored"


def _stored_mentions(post: Object) -> tuple[str, ...]:
    """The mentioned actors' ids, as ingest keeps them (`{"href": …, "name": …}` entries)."""
    entries = (post.extra or {}).get("mentions") or []
    return tuple(e["href"] for e in entries if isinstance(e, dict) and isinstance(e.get("href"), str))


async def _interaction(context: Context, activity: dict[str, Any], kind: str) -> str:
    """A like or an announce of a post we know: one edge per actor and post, however many
    activities say so (storage/reactions.py)."""
    session, sender = context.session, context.sender
    object_id = id_of(activity.get("object"))
    post = await post_named(session, object_id) if object_id else None
    if post is None or post.deleted_at is not None:
        return f"{kind} of a post we do not know; stored the activity only"
    if kind == "announce" and not audiences.may_boost(post.visibility, post.author_id, sender.id):
        # As Mastodon: a boost must not carry a post beyond its audience; ignored, not counted.
        return f"announce of a {post.visibility} post by someone else; ignored"
    recorded = await record_reaction(session, kind, sender.id, post, activity["id"])
    return f"{kind} recorded" if recorded is not None else f"{kind} already counted"


@handles("Like")
async def on_like(context: Context, activity: dict[str, Any]) -> str:
    return await _interaction(context, activity, "like")


@handles("Announce")
async def on_announce(context: Context, activity: dict[str, Any]) -> str:
    return await _interaction(context, activity, "announce")
