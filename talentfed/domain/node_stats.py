"""How big the node is and whom it knows: what NodeInfo and the Mastodon instance API report."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation import nodeinfo
from talentfed.federation.blocks import domain_policies
from talentfed.storage.models import Actor, Object, User, utcnow


async def usage(session: AsyncSession) -> nodeinfo.Usage:
    """Members, members who posted lately, and local posts."""
    now = utcnow()

    async def count(query: Select[int]) -> int:
        return (await session.execute(query)).scalar_one()

    async def active_since(days: int) -> int:
        return await count(
            select(func.count(distinct(Object.author_id))).where(
                Object.local.is_(True), Object.published >= now - timedelta(days=days)
            )
        )

    return nodeinfo.Usage(
        users_total=await count(select(func.count()).select_from(User)),
        users_active_month=await active_since(30),
        users_active_halfyear=await active_since(180),
        local_posts=await count(
            select(func.count()).where(Object.local.is_(True), Object.deleted_at.is_(None))
        ),
    )


async def peer_domains(session: AsyncSession, config: Config) -> list[str]:
    """The domains of the remote actors this node has seen, blocked ones left out, sorted."""
    blocked = await domain_policies(session, config)
    domains = await session.scalars(select(Actor.domain).where(Actor.local.is_(False)).distinct())
    return sorted(domain for domain in domains if domain and not blocked.refuses(domain))
