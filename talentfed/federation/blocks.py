"""Domain policies: one rule for the inbox, the fetcher, delivery, WebFinger and every listing.

A policy says what this node does with a remote domain, with Mastodon's severities:
- `suspend`: refused everywhere (inbox, fetches, delivery, WebFinger); its stored data is purged
  (`domain/moderation.py`);
- `silence`: federates, but its actors and posts stay off public pages and discovery, and only
  their followers see them (`domain/visibility.py` applies it);
- `noop`: only the flags below apply.
`reject_media`: its attachments are neither fetched nor shown. `reject_reports`: its Flags are
dropped (federation/flags.py).

A block on example.com covers its subdomains and every port; the most specific block wins, as
in Mastodon. In allow-list mode every domain not allowed (nor ours) is suspended.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.storage.models import DomainAllow, DomainBlock

SEVERITIES = ("noop", "silence", "suspend")  # from the mildest


@dataclass(frozen=True)
class DomainPolicy:
    severity: str = "noop"
    reject_media: bool = False
    reject_reports: bool = False

    @property
    def refused(self) -> bool:
        """Suspended: nothing is accepted from, fetched from or sent to the domain."""
        return self.severity == "suspend"

    @property
    def limited(self) -> bool:
        """Kept off public pages and discovery (silenced, or worse)."""
        return self.severity in ("silence", "suspend")

    @property
    def media_rejected(self) -> bool:
        return self.reject_media or self.refused


OPEN = DomainPolicy()
SUSPENDED = DomainPolicy("suspend")


def _netloc_and_host(netloc_or_url: str) -> tuple[str, str]:
    text = netloc_or_url if "//" in netloc_or_url else f"//{netloc_or_url}"
    try:
        parts = urlsplit(text)
        return parts.netloc.lower(), (parts.hostname or "").lower()
    except ValueError:  # a malformed port or bracket: nothing a rule could name
        return netloc_or_url.lower(), ""


def _covering(netloc: str, hostname: str, domains: Mapping[str, object] | frozenset[str]) -> str | None:
    """The most specific of `domains` that covers the host: the netloc itself (a rule naming a
    port covers that port only), else the host or its nearest parent domain."""
    if netloc in domains:
        return netloc
    labels = hostname.split(".")
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        if candidate and candidate in domains:
            return candidate
    return None


@dataclass(frozen=True)
class DomainPolicies:
    """Every rule in force: stored and configured blocks and, in allow-list mode, the allows."""

    rules: Mapping[str, DomainPolicy] = field(default_factory=lambda: MappingProxyType({}))
    allowed: frozenset[str] | None = None  # None: open federation

    def for_domain(self, netloc_or_url: str) -> DomainPolicy:
        """The policy for a host, a netloc (host:port) or a URL."""
        netloc, hostname = _netloc_and_host(netloc_or_url)
        rule = _covering(netloc, hostname, self.rules)
        if rule is not None:
            return self.rules[rule]
        if self.allowed is not None and _covering(netloc, hostname, self.allowed) is None:
            return SUSPENDED
        return OPEN

    def refuses(self, netloc_or_url: str) -> bool:
        return self.for_domain(netloc_or_url).refused

    def limits(self, netloc_or_url: str) -> bool:
        return self.for_domain(netloc_or_url).limited

    def __bool__(self) -> bool:
        """False when no domain can have a policy: callers skip the work."""
        return bool(self.rules) or self.allowed is not None


NO_POLICIES = DomainPolicies()


async def domain_policies(session: AsyncSession, config: Config) -> DomainPolicies:
    """The rules in force: the domain_blocks table, `[federation] blocked_domains` (suspend;
    the stricter wins where both name a domain) and, in allow-list mode, the allows."""
    rules = {block.domain: _policy(block) for block in await session.scalars(select(DomainBlock))}
    for domain in config.federation.blocked_domains:
        rules[domain] = SUSPENDED
    allowed = None
    if config.federation.mode == "allowlist":
        stored = set(await session.scalars(select(DomainAllow.domain)))
        allowed = frozenset(stored | set(config.federation.allowed_domains) | {config.node.domain})
    return DomainPolicies(MappingProxyType(rules), allowed)


def _policy(block: DomainBlock) -> DomainPolicy:
    severity = block.severity if block.severity in SEVERITIES else "suspend"  # unknown: the safe side
    return DomainPolicy(severity, bool(block.reject_media), bool(block.reject_reports))


class CachedPolicies:
    """`domain_policies`, re-read at most every `ttl` seconds: for the hot paths that ask on
    every request or POST (the inbox, delivery). A change made by an admin applies within `ttl`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], config: Config, ttl: float = 5.0
    ) -> None:
        self.sessions, self.config, self.ttl = sessions, config, ttl
        self._read: tuple[float, DomainPolicies] | None = None

    async def current(self) -> DomainPolicies:
        now = time.monotonic()
        if self._read is None or now - self._read[0] > self.ttl:
            async with self.sessions() as session:
                self._read = (now, await domain_policies(session, self.config))
        return self._read[1]

    def forget(self) -> None:
        """Read the policies afresh on the next ask: this process has just changed them."""
        self._read = None
