"""Forgetting what a suspended domain left here, in bounded batches.

A suspend block (`federation/blocks.py`) refuses the domain at once; this removes what was
stored before: its actors, their posts, follows and interactions either way, their media rows,
the activities they sent, the analytics results that name them (scores go with the actors;
recommendations name them by URI) and the deliveries still queued to the domain. Queued
deliveries are deleted, not held: a suspended domain is sent nothing, and what was queued
for it is stale by the time a suspension is lifted.

A domain whose media are rejected (not suspended) loses only its pictures here: its posts'
attachment rows, and its actors' avatars and headers (federation/ stores no new ones).

Domains suspended only because allow-list mode leaves them out are hidden, not purged: switching
the mode back must not find the graph gone.

Each `purge_batch` deletes at most `batch` rows of each kind and says how many it deleted; the
caller commits between batches and stops at 0, so a domain with 100k rows never holds one long
transaction. Deleting what is already gone deletes nothing: running it again is harmless.
"""

from __future__ import annotations

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation.blocks import DomainPolicies, domain_policies
from talentfed.storage.db import rowcount
from talentfed.storage.models import (
    Activity,
    Actor,
    DeliveryJob,
    Follow,
    Interaction,
    MediaAttachment,
    Object,
    Recommendation,
)

PURGE_BATCH = 500


async def purged_domains(session: AsyncSession, config: Config) -> tuple[list[str], list[str]]:
    """(actor domains, delivery hosts) that a suspend block covers and that still hold rows."""
    policies = await domain_policies(session, config)
    blocks_only = DomainPolicies(policies.rules)  # allow-list mode hides; it does not purge
    if not blocks_only:
        return [], []
    actor_domains = await session.scalars(select(Actor.domain).where(Actor.local.is_(False)).distinct())
    hosts = await session.scalars(select(DeliveryJob.host).where(DeliveryJob.state != "done").distinct())
    return (
        [domain for domain in actor_domains if blocks_only.refuses(domain)],
        [host for host in hosts if blocks_only.refuses(host)],
    )


async def _forget_media(session: AsyncSession, config: Config, batch: int) -> int:
    """One batch of the pictures of domains whose media are rejected: attachment rows, then
    avatars and headers. The number of rows changed."""
    policies = DomainPolicies((await domain_policies(session, config)).rules)
    if not policies:
        return 0
    pictured = select(Actor.domain).where(
        Actor.local.is_(False), or_(Actor.icon_url.is_not(None), Actor.image_url.is_not(None))
    )
    attached = select(Actor.domain).join(MediaAttachment, MediaAttachment.actor_id == Actor.id)
    candidates = set(await session.scalars(pictured.distinct()))
    candidates |= set(await session.scalars(attached.distinct()))
    domains = [d for d in candidates if policies.for_domain(d).reject_media and not policies.refuses(d)]
    if not domains:
        return 0
    actors = select(Actor.id).where(Actor.domain.in_(domains), Actor.local.is_(False))
    media = select(MediaAttachment.id).where(MediaAttachment.actor_id.in_(actors))
    changed = await _delete_some(session, MediaAttachment, media, batch)
    pictures = actors.where(or_(Actor.icon_url.is_not(None), Actor.image_url.is_not(None))).limit(batch)
    result = await session.execute(
        update(Actor).where(Actor.id.in_(pictures.scalar_subquery())).values(icon_url=None, image_url=None)
    )
    return changed + rowcount(result)


async def purge_batch(session: AsyncSession, config: Config, batch: int = PURGE_BATCH) -> int:
    """Delete one batch of every suspended domain's rows, and of the pictures of domains whose
    media are rejected; the number deleted (0: all done)."""
    domains, hosts = await purged_domains(session, config)
    deleted = await _forget_media(session, config, batch)
    if hosts:
        jobs = select(DeliveryJob.id).where(DeliveryJob.host.in_(hosts), DeliveryJob.state != "done")
        deleted += await _delete_some(session, DeliveryJob, jobs, batch)
    if not domains:
        return deleted
    actors = select(Actor.id).where(Actor.domain.in_(domains), Actor.local.is_(False))
    actor_uris = select(Actor.uri).where(Actor.domain.in_(domains), Actor.local.is_(False))
    posts = select(Object.id).where(Object.author_id.in_(actors))
    post_uris = select(Object.uri).where(Object.author_id.in_(actors))
    # Recommendations name their target by URI, so they go before the rows they name.
    named = or_(Recommendation.target_uri.in_(actor_uris), Recommendation.target_uri.in_(post_uris))
    deleted += await _delete_some(session, Recommendation, select(Recommendation.id).where(named), batch)
    deleted += await _delete_some(
        session, Activity, select(Activity.id).where(Activity.actor_uri.in_(actor_uris)), batch
    )
    edges = or_(Interaction.actor_id.in_(actors), Interaction.target_actor_id.in_(actors))
    deleted += await _delete_some(session, Interaction, select(Interaction.id).where(edges), batch)
    graph = or_(Follow.follower_id.in_(actors), Follow.followed_id.in_(actors))
    deleted += await _delete_some(session, Follow, select(Follow.id).where(graph), batch)
    media = select(MediaAttachment.id).where(MediaAttachment.actor_id.in_(actors))
    deleted += await _delete_some(session, MediaAttachment, media, batch)
    deleted += await _delete_some(session, Object, posts, batch)
    # An actor goes once its posts are gone, so the cascade behind it stays small.
    bare = actors.where(~select(Object.id).where(Object.author_id == Actor.id).exists())
    deleted += await _delete_some(session, Actor, bare, batch)
    return deleted


async def _delete_some(session: AsyncSession, table: type, ids: Select[int], batch: int) -> int:
    chosen = [row_id for row_id in await session.scalars(ids.limit(batch))]
    if not chosen:
        return 0
    await session.execute(delete(table).where(table.id.in_(chosen)))  # type: ignore[attr-defined]
    return len(chosen)
