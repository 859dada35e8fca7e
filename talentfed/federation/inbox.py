"""Receiving activities: every rule an incoming POST must pass, in order.

1. size (413), the caps on federated input (`federation/limits.py`) and JSON shape (400);
2. blocked domains (403);
3. a valid HTTP signature (401), made by the activity's actor — or, for a forwarded
   activity, the activity refetched from its origin;
4. the origin check (`federation/origins.py`): the activity's id, and what a
   Create/Update/Delete touches, live on its actor's host (403);
5. once per activity id: a duplicate is answered 202 and stored once;
6. the activity's effect (`federation/handlers.py`); an unknown type is stored and logged.

Steps 5 and 6 run in a transaction shared with the other activities arriving at the same time
(`storage/group_commit.py`): under load that is what lets one SQLite writer keep up. Each runs
under the id of the request that brought it (`observability/logs.py`), so the delivery jobs it
queues carry that id too.

Every answer has a short reason code besides its sentence: `/metrics` counts answers by it
(`talentfed_inbox_activities_total`), and it never holds a URL or anything else a sender chose.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.federation import handlers, limits, moves
from talentfed.federation.as_values import id_of, types_of
from talentfed.federation.blocks import CachedPolicies, DomainPolicies
from talentfed.federation.fetcher import FetchError
from talentfed.federation.following import note_follows
from talentfed.federation.origins import authority, our_hosts, same_host
from talentfed.federation.post_store import note_absent_posts, note_named
from talentfed.federation.remote_actors import ActorUnavailable, RemoteActors
from talentfed.federation.remote_posts import PostUnavailable, RemotePosts
from talentfed.federation.signatures import KeyResolutionError, SignatureError, verify_request
from talentfed.observability import metrics
from talentfed.observability.logs import current_request_id, request_scope
from talentfed.storage.group_commit import GroupCommit
from talentfed.storage.models import Activity, Actor, utcnow

logger = logging.getLogger("talentfed.inbox")

# Activities whose object must live on the actor's own host.
ORIGIN_CHECKED = frozenset({"Create", "Update", "Delete"})
STORED_ACTIVITIES = "talentfed.stored_activities"  # session.info: ids a batch has inserted


@dataclass(frozen=True)
class InboxResult:
    status: int
    reason: str  # a sentence for the sender
    code: str = "applied"  # a short reason, the same for every activity refused the same way


class Rejected(Exception):
    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


class LocalRecipients:
    """Which usernames have a personal inbox here, asked by every POST to one.

    A username found is remembered for `ttl` seconds, so that a personal inbox costs no more
    than the shared one; one not found is asked again each time, so a member who has just
    joined is reachable at once.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl: float = 60.0) -> None:
        self.sessions, self.ttl = sessions, ttl
        self._found: dict[str, float] = {}  # username -> when it was last found (monotonic)

    async def exists(self, username: str) -> bool:
        found_at = self._found.get(username)
        if found_at is not None and time.monotonic() - found_at <= self.ttl:
            return True
        async with self.sessions() as session:
            actor_id = await session.scalar(
                select(Actor.id).where(Actor.local.is_(True), Actor.username == username)
            )
        if actor_id is None:
            self._found.pop(username, None)
            return False
        self._found[username] = time.monotonic()
        return True


class Inbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: Config,
        actors: RemoteActors,
        posts: RemotePosts | None = None,
        policies: CachedPolicies | None = None,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.actors = actors
        self.posts = posts
        self._policies = policies or CachedPolicies(sessions, config)
        self.our_hosts = our_hosts(config)
        self.recipients = LocalRecipients(sessions)
        # Activities from concurrent POSTs are stored and applied in shared transactions.
        self.writes = GroupCommit(sessions, prepare=_prepare_batch)

    async def close(self) -> None:
        await self.writes.close()

    async def receive(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, *, recipient: str | None
    ) -> InboxResult:
        """Check and apply one POSTed activity; `recipient` is the username of a personal inbox."""
        result = await self._receive(method, url, headers, body, recipient)
        metrics.count_inbox_activity(result.status, result.code)
        return result

    async def _receive(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, recipient: str | None
    ) -> InboxResult:
        try:
            if recipient is not None and not await self.recipients.exists(recipient):
                raise Rejected(404, "unknown_recipient", "no such account")
            activity = parsed = self._parse(body)
            actor_uri = id_of(activity.get("actor"))
            if actor_uri is None:  # _parse has refused an activity without one
                raise Rejected(400, "no_actor", "activity has no actor")
            await self._refuse_blocked(actor_uri)
            activity, signer = await self._authenticate(method, url, headers, body, activity, actor_uri)
            if activity is not parsed:  # forwarded: its origin's copy replaced it; check that one
                _check_columns(activity)
            self._check_origin(activity, actor_uri)
            return await self._apply(activity, actor_uri, recipient, signer)
        except Rejected as exc:
            logger.info(
                "inbox refused %s: %s %s", url, exc.status, exc.reason, extra={"reason_code": exc.code}
            )
            return InboxResult(exc.status, exc.reason, exc.code)

    # -- checks ----------------------------------------------------------------------

    def _parse(self, body: bytes) -> dict[str, Any]:
        if len(body) > self.config.federation.max_inbox_body_bytes:
            raise Rejected(413, "too_large", f"body over {self.config.federation.max_inbox_body_bytes} bytes")
        try:
            # The caps on federated input (depth, NUL, numbers, arrays, string lengths):
            # checked here, before the signature is verified and long before the transaction.
            activity = limits.parse_json(body)
        except limits.InputRefused as exc:
            raise Rejected(400, "input_refused", f"body refused: {exc.reason}") from None
        if not isinstance(activity, dict):
            raise Rejected(400, "not_an_object", "body is not a JSON object")
        if not isinstance(activity.get("id"), str) or not activity["id"].startswith(("https://", "http://")):
            raise Rejected(400, "no_id", "activity has no id URL")
        if not types_of(activity):
            raise Rejected(400, "no_type", "activity has no type")
        if not id_of(activity.get("actor")):
            raise Rejected(400, "no_actor", "activity has no actor")
        _check_columns(activity)
        return activity

    async def _blocked(self) -> DomainPolicies:
        """The domain policies, re-read at most every few seconds (every POST asks, twice)."""
        return await self._policies.current()

    async def _refuse_blocked(self, actor_uri: str | None) -> None:
        blocked = await self._blocked()
        if actor_uri and blocked.refuses(actor_uri):
            raise Rejected(403, "blocked_domain", "the actor's domain is blocked here")

    async def _authenticate(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        activity: dict[str, Any],
        actor_uri: str,
    ) -> tuple[dict[str, Any], Actor]:
        try:
            signed = await verify_request(
                method, url, headers, body, resolve_key=self.actors.resolve_key, our_hosts=self.our_hosts
            )
        except KeyResolutionError as exc:
            if _is_self_delete(activity, actor_uri):
                # The actor is gone, and so is its key: nothing to verify, nothing to keep.
                raise Rejected(202, "deleted_actor", "deleted actor, key gone; ignored") from None
            raise Rejected(401, "signature", exc.reason) from None
        except SignatureError as exc:
            raise Rejected(getattr(exc, "status_code", 401), "signature", exc.reason) from None
        signer = await self.actors.owner_of_key(signed.key_id)
        if signer is None:
            raise Rejected(401, "unknown_key_owner", f"no known actor owns the key {signed.key_id}")
        await self._refuse_blocked(signer.uri)
        if signer.uri == actor_uri:
            return activity, signer
        return await self._refetch_forwarded(activity, actor_uri, signer), signer

    async def _refetch_forwarded(
        self, activity: dict[str, Any], actor_uri: str, signer: Actor
    ) -> dict[str, Any]:
        """Signed by someone else (forwarded): trust only the copy its origin serves."""
        activity_id = activity["id"]
        if not same_host(activity_id, actor_uri):
            raise Rejected(401, "forwarded", f"signed by {signer.uri}, not by the actor {actor_uri}")
        try:
            original = await self.actors.fetcher.fetch_json(activity_id)
        except FetchError as exc:
            raise Rejected(
                401,
                "forwarded",
                f"signed by {signer.uri}, not by the actor, and not fetchable from its origin: {exc}",
            ) from None
        # fetch_json follows redirects and only vouches for the URL that finally served the
        # document: an open redirect on the actor's host must not let another host speak for it.
        if original.get("id") != activity_id:
            raise Rejected(401, "forwarded", f"{activity_id} is served by its origin under another id")
        if id_of(original.get("actor")) != actor_uri:
            raise Rejected(401, "forwarded", "the activity at its origin has another actor")
        logger.info("accepted forwarded %s (signed by %s) after refetching it", activity_id, signer.uri)
        return original

    def _check_origin(self, activity: dict[str, Any], actor_uri: str) -> None:
        # An id is recorded once, first come first served: an id on another host than its
        # actor's would let any server claim, and so block, another server's activity ids.
        if not same_host(activity["id"], actor_uri):
            raise Rejected(
                403,
                "origin",
                f"activity id {activity['id']} is not on the actor's host {authority(actor_uri)}",
            )
        if not set(types_of(activity)) & ORIGIN_CHECKED:
            return
        object_id = id_of(activity.get("object"))
        if not object_id:
            raise Rejected(400, "no_object", "activity has no object")
        if not same_host(object_id, actor_uri):
            raise Rejected(
                403, "origin", f"object {object_id} is not on the actor's host {authority(actor_uri)}"
            )

    # -- effect --------------------------------------------------------------------------

    async def _already_stored(self, activity_id: str) -> bool:
        async with self.sessions() as session:
            return await session.scalar(select(Activity.id).where(Activity.uri == activity_id)) is not None

    async def _prefetch(self, activity: dict[str, Any]) -> None:
        """Fetch a post an Announce or Create names only by id, before the transaction opens
        (no network call ever runs while we hold the database's write lock)."""
        if self.posts is None or not set(types_of(activity)) & {"Announce", "Create"}:
            return
        obj = activity.get("object")
        if isinstance(obj, str):
            try:
                await self.posts.ensure(obj)
            except PostUnavailable as exc:
                logger.info("could not fetch %s named by %s: %s", obj, activity["id"], exc)

    async def _fetch_move_target(self, activity: dict[str, Any], sender: Actor) -> None:
        """A Move's target, fetched afresh (its aliases decide) and checked before the
        transaction: a Move that cannot stand is refused with its reason and changes nothing."""
        if "Move" not in types_of(activity):
            return
        try:
            claim = moves.read_move(activity)
            target = await self.actors.get(claim.target, refresh=True)
            moves.check_target(sender.uri, target)
        except moves.MoveRefused as exc:
            raise Rejected(400, "move_refused", str(exc)) from None
        except ActorUnavailable as exc:
            raise Rejected(400, "move_refused", f"the Move's target could not be fetched: {exc}") from None

    async def _apply(
        self, activity: dict[str, Any], actor_uri: str, recipient: str | None, signer: Actor
    ) -> InboxResult:
        try:
            sender = signer if signer.uri == actor_uri else await self.actors.get(actor_uri)
        except ActorUnavailable as exc:
            raise Rejected(401, "actor_unavailable", f"the actor could not be fetched: {exc}") from None
        await self._prefetch(activity)
        await self._fetch_move_target(activity, sender)
        policies = await self._blocked()
        try:
            reading = handlers.read(activity)  # the costly reading, before the shared transaction
        except handlers.Invalid as exc:
            raise Rejected(400, "invalid_activity", str(exc)) from None

        row = {
            "uri": activity["id"],
            "type": types_of(activity)[0],
            "actor_uri": actor_uri,
            "object_uri": id_of(activity.get("object")),
            "local": False,
            "document": activity,
            "created_at": utcnow(),
        }

        request_id = current_request_id()

        async def store_and_apply(session: AsyncSession) -> str:
            # Run by the group commit's drainer, for many requests: under this one's id.
            with request_scope(request_id):
                # A repeated id fails the unique index when the session flushes (or when the
                # batch inserted its activities, see _prepare_batch), and the whole transaction
                # rolls back, effects included: see the IntegrityError below.
                if row["uri"] not in session.info.get(STORED_ACTIVITIES, ()):
                    session.add(Activity(**row))
                attached = await _attach(session, sender)
                context = handlers.Context(
                    session, self.config, attached, recipient, self.actors, reading, policies
                )
                return await handlers.dispatch(context, activity)

        hint = BatchHint(
            row, _created_post_uri(activity), sender.id, *_named(activity, reading), *_follow_named(activity)
        )
        try:
            reason = await self.writes.run(store_and_apply, hint=hint)
        except IntegrityError:
            if await self._already_stored(activity["id"]):
                logger.info("duplicate %s ignored", activity["id"])
                return InboxResult(202, "duplicate activity; already received", "duplicate")
            logger.warning("could not apply %s: it conflicts with stored data", activity["id"], exc_info=True)
            return InboxResult(202, "accepted, but it conflicts with what we have; not applied", "conflict")
        except handlers.Invalid as exc:
            raise Rejected(400, "invalid_activity", str(exc)) from None
        # The access log has a line for every POST already; this one is for debugging.
        logger.debug("received %s from %s: %s", activity["id"], actor_uri, reason)
        return InboxResult(202, reason)


def _check_columns(activity: dict[str, Any]) -> None:
    """The activity's id, type, actor and object fit the columns of `activities`."""
    try:
        limits.check_activity(activity)
    except limits.InputRefused as exc:
        raise Rejected(400, "input_refused", exc.reason) from None


@dataclass(frozen=True)
class BatchHint:
    """What a batch looks up once for all its activities (`_prepare_batch`)."""

    row: dict[str, Any]  # the activity's row in `activities`
    created_post: str | None  # the post a Create carries
    sender_id: int
    named_posts: tuple[str, ...]  # the post edited, replied to, liked or boosted
    mentioned: tuple[str, ...]  # the actors a post mentions
    followed: str | None = None  # the member a Follow, or the Follow an Undo embeds, names
    undone_follow: str | None = None  # the id of the Follow an Undo may take back


def _follow_named(activity: dict[str, Any]) -> tuple[str | None, str | None]:
    """What a Follow or an Undo of one names, which `on_follow`/`on_undo` will look up."""
    kinds = types_of(activity)
    if "Follow" in kinds:
        return id_of(activity.get("object")), None
    if "Undo" not in kinds:
        return None, None
    obj = activity.get("object")
    embedded = obj if isinstance(obj, dict) else {}
    if embedded and "Follow" not in types_of(embedded):
        return None, None  # an Undo of a like, a boost or a block
    return id_of(embedded.get("object")), id_of(obj)


def _named(activity: dict[str, Any], reading: handlers.Reading) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The posts and actors an activity names, which its handler will look up."""
    if reading.post is not None:
        edited = (reading.post.uri,) if "Update" in types_of(activity) else ()
        parent = (reading.post.in_reply_to,) if reading.post.in_reply_to else ()
        return edited + parent, reading.post.mentions
    object_id = id_of(activity.get("object"))
    if object_id and set(types_of(activity)) & {"Like", "Announce"}:
        return (object_id,), ()
    return (), ()


def _created_post_uri(activity: dict[str, Any]) -> str | None:
    """The id of the post a Create carries: a batch looks these up in one query."""
    obj = activity.get("object")
    obj_id = obj.get("id") if isinstance(obj, dict) else None
    if "Create" in types_of(activity) and isinstance(obj_id, str):
        return obj_id
    return None


async def _prepare_batch(session: AsyncSession, hints: list[BatchHint]) -> None:
    """What every activity of a batch needs, done once: its row in `activities` (one
    multi-row INSERT instead of an ORM object each), the lookup of the posts it creates, that
    of the posts and actors it names (`post_store.note_named`) and that of the members, edges
    and blocks its Follows and Undos name (`following.note_follows`)."""
    rows = [hint.row for hint in hints]
    await session.execute(insert(Activity), rows)
    session.info[STORED_ACTIVITIES] = {row["uri"] for row in rows}
    await note_absent_posts(session, [hint.created_post for hint in hints if hint.created_post])
    await note_named(
        session,
        {uri for hint in hints for uri in hint.named_posts},
        {uri for hint in hints for uri in hint.mentioned},
    )
    followed = {hint.followed for hint in hints if hint.followed}
    undone = {hint.undone_follow for hint in hints if hint.undone_follow}
    if followed or undone:
        await note_follows(session, followed, undone, {hint.sender_id for hint in hints})


async def _attach(session: AsyncSession, actor: Actor) -> Actor:
    """`actor` (a detached copy, maybe cached) in `session`, without a query.

    Earlier units of the same batch may have loaded or changed this actor already: their copy
    wins, so a stale cached copy never overwrites their changes.
    """
    key = inspect(actor).identity_key
    present = session.identity_map.get(key) if key is not None else None
    return present if present is not None else await session.merge(actor, load=False)


def _is_self_delete(activity: dict[str, Any], actor_uri: str) -> bool:
    return "Delete" in types_of(activity) and id_of(activity.get("object")) == actor_uri
