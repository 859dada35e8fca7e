"""Domain blocks: one rule for the inbox, the fetcher and delivery."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.storage.models import DomainBlock


async def blocked_domains(session: AsyncSession, config: Config) -> frozenset[str]:
    """Blocks from the configuration and from moderation (the domain_blocks table)."""
    stored = set(await session.scalars(select(DomainBlock.domain)))
    return frozenset(stored | set(config.federation.blocked_domains))


def is_blocked(netloc_or_url: str, blocked: frozenset[str]) -> bool:
    """A block on example.com covers its subdomains and every port, as in Mastodon.

    A block that names a port (dev mode: 127.0.0.1:8001) covers that port only.
    """
    if not blocked:
        return False
    text = netloc_or_url if "//" in netloc_or_url else f"//{netloc_or_url}"
    parts = urlsplit(text)
    netloc, hostname = parts.netloc.lower(), (parts.hostname or "").lower()
    if netloc in blocked:
        return True
    return any(hostname == domain or hostname.endswith("." + domain) for domain in blocked)
