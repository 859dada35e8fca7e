"""A like or a boost is stored once per actor and post: the one place that writes them.

Two Likes of one post by one actor (a server that sends a Like to the shared inbox and to a
personal one, or re-sends it with a new id; a member who taps favourite twice) are one like.
A SELECT before the INSERT cannot keep that rule: two transactions at once (parallel inbox
batches on PostgreSQL, two API requests) both see nothing and both insert. The partial unique
index `ux_interactions_counted_once` (models.Interaction, migration 0024) keeps it, and the
INSERT here yields to it (ON CONFLICT DO NOTHING) instead of failing: a duplicate is dropped,
it neither answers 500 nor rolls back a group commit's other activities.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.dialects import insert_or_ignore
from talentfed.storage.models import COUNTED_KINDS, COUNTED_ONCE, Interaction, Object

UNIQUE = ["actor_id", "object_id", "kind"]
# The activity that makes each kind of reaction, and back: the one mapping between the two.
VERB_OF_KIND = {"like": "Like", "announce": "Announce"}
KIND_OF_VERB = {verb: kind for kind, verb in VERB_OF_KIND.items()}
# The table, not the mapped class: a Core INSERT skips the ORM's work on every statement (about
# a third of the CPU of each, on SQLite), and `record_reaction` flushes what it needs itself.
INTERACTIONS = Interaction.__table__


async def record_reaction(
    session: AsyncSession, kind: str, actor_id: int, post: Object, activity_uri: str | None
) -> int | None:
    """Insert the `kind` edge (like, announce) of `actor_id` on `post`, addressed to its
    author; the new row's id, or None when the actor's like or boost of that post is stored
    already (by this transaction, or by another that committed it meanwhile)."""
    if kind not in COUNTED_KINDS:
        raise ValueError(f"expected one of {', '.join(COUNTED_KINDS)}, got {kind!r}")
    # The post may be new in this transaction (a group commit's): it needs its id. A boost's
    # place in timelines is its `after_post_id` (the newest post's id as it is inserted), so
    # the posts added before it must be in the table; a like's place matters to no one, and
    # the batch's posts keep being written by one flush.
    if post.id is None or (kind == "announce" and session.new):
        await session.flush()
    statement = insert_or_ignore(
        session,
        INTERACTIONS,
        UNIQUE,
        where=COUNTED_ONCE,
        kind=kind,
        actor_id=actor_id,
        object_id=post.id,
        target_actor_id=post.author_id,
        activity_uri=activity_uri,
    ).returning(INTERACTIONS.c.id)
    inserted: int | None = await session.scalar(statement)
    return inserted
