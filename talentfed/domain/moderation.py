"""Moderation by the node's admins: blocking whole domains.

A blocked domain's servers are refused everywhere (inbox, fetches, delivery: one rule in
`federation/blocks.py`), and its actors never appear in search, recommendations or rankings.
Blocks written in the configuration file are listed too but can only be lifted there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config, check_domain
from talentfed.domain.errors import FieldError
from talentfed.storage.models import DomainBlock


class ModerationError(FieldError):
    """A moderation action refused (a malformed domain, our own domain)."""


@dataclass(frozen=True)
class Block:
    domain: str
    reason: str
    from_config: bool


async def list_blocks(session: AsyncSession, config: Config) -> list[Block]:
    stored = {b.domain: b for b in await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))}
    blocks = [Block(d, b.reason or "", False) for d, b in stored.items()]
    blocks += [
        Block(d, "in the configuration file", True)
        for d in config.federation.blocked_domains
        if d not in stored
    ]
    return sorted(blocks, key=lambda block: block.domain)


async def block_domain(session: AsyncSession, config: Config, domain: str, reason: str = "") -> str:
    """Block `domain` (and its subdomains); returns the normalised domain."""
    try:
        normalised = check_domain(domain.strip().removeprefix("https://").removeprefix("http://").rstrip("/"))
    except ValueError as exc:
        raise ModerationError("domain", f"expected {exc}") from None
    if normalised == config.node.domain:
        raise ModerationError("domain", "this is the node's own domain")
    if await session.scalar(select(DomainBlock).where(DomainBlock.domain == normalised)) is None:
        session.add(DomainBlock(domain=normalised, reason=reason.strip()[:500] or None))
        await session.flush()
    return normalised


async def unblock_domain(session: AsyncSession, config: Config, domain: str) -> None:
    block = await session.scalar(select(DomainBlock).where(DomainBlock.domain == domain))
    if block is None:
        if domain in config.federation.blocked_domains:
            raise ModerationError("domain", "this block is in the configuration file; remove it there")
        raise ModerationError("domain", f"{domain} is not blocked")
    await session.delete(block)
    await session.flush()
