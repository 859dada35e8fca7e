"""Moderation by the node's admins: domain blocks with Mastodon's severities, and the allows of
allow-list federation.

What a block does is decided in one place, `federation/blocks.py` (the policies): a suspended
domain is refused everywhere and its data purged (`domain/domain_purge.py`), a silenced one is
kept off public pages (`domain/visibility.py`). This module only says which blocks and allows
may be written, and lists them. Blocks written in the configuration file are listed too but
can only be lifted there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config, check_domain
from talentfed.domain import moderation_log
from talentfed.domain.errors import FieldError
from talentfed.federation.blocks import SEVERITIES
from talentfed.storage.models import DomainAllow, DomainBlock, User

MAX_COMMENT = 1000  # characters of a public or private comment


class ModerationError(FieldError):
    """A moderation action refused (a malformed domain, our own domain, an unknown severity)."""


@dataclass(frozen=True)
class BlockTerms:
    """What an admin says of a blocked domain, as Mastodon's DomainBlock has it."""

    severity: str = "suspend"
    reject_media: bool = False
    reject_reports: bool = False
    obfuscate: bool = False
    public_comment: str = ""
    private_comment: str = ""


@dataclass(frozen=True)
class Block:
    domain: str
    terms: BlockTerms
    from_config: bool


def check_terms(terms: BlockTerms) -> BlockTerms:
    """The terms with comments trimmed; ModerationError names the field that is wrong."""
    if terms.severity not in SEVERITIES:
        raise ModerationError("severity", f"one of {', '.join(SEVERITIES)}, got {terms.severity!r}")
    for name in ("public_comment", "private_comment"):
        if len(getattr(terms, name)) > MAX_COMMENT:
            raise ModerationError(name, f"at most {MAX_COMMENT} characters")
    return BlockTerms(
        terms.severity,
        terms.reject_media,
        terms.reject_reports,
        terms.obfuscate,
        terms.public_comment.strip(),
        terms.private_comment.strip(),
    )


def check_remote_domain(config: Config, domain: str) -> str:
    """`domain` normalised (no scheme, no trailing slash, lower case), unless it is not a
    domain or is this node's own."""
    text = domain.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    try:
        normalised = check_domain(text)
    except ValueError as exc:
        raise ModerationError("domain", f"expected {exc}") from None
    if normalised == config.node.domain:
        raise ModerationError("domain", "this is the node's own domain")
    return normalised


def _terms(block: DomainBlock) -> BlockTerms:
    return BlockTerms(
        block.severity,
        block.reject_media,
        block.reject_reports,
        block.obfuscate,
        block.public_comment or "",
        block.private_comment or "",
    )


async def list_blocks(session: AsyncSession, config: Config) -> list[Block]:
    stored = {b.domain: b for b in await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))}
    blocks = [Block(d, _terms(b), False) for d, b in stored.items()]
    blocks += [
        Block(d, BlockTerms(private_comment="in the configuration file"), True)
        for d in config.federation.blocked_domains
        if d not in stored
    ]
    return sorted(blocks, key=lambda block: block.domain)


async def save_block(
    session: AsyncSession, config: Config, domain: str, terms: BlockTerms, *, moderator: User | None = None
) -> str:
    """Block `domain` (and its subdomains) on `terms`, or change the terms of its block;
    returns the normalised domain. `moderator` None: the command line."""
    normalised = check_remote_domain(config, domain)
    terms = check_terms(terms)
    block = await session.scalar(select(DomainBlock).where(DomainBlock.domain == normalised))
    if block is None:
        block = DomainBlock(domain=normalised)
        session.add(block)
    block.severity = terms.severity
    block.reject_media, block.reject_reports = terms.reject_media, terms.reject_reports
    block.obfuscate = terms.obfuscate
    block.public_comment = terms.public_comment or None
    block.private_comment = terms.private_comment or None
    flags = ("reject_media", "reject_reports", "obfuscate")
    options = [name.replace("_", " ") for name in flags if getattr(terms, name)]
    detail = "; ".join(filter(None, [", ".join([terms.severity, *options]), terms.private_comment]))
    moderation_log.record(session, moderator, "block_domain", normalised, detail)
    await session.flush()
    return normalised


async def unblock_domain(
    session: AsyncSession, config: Config, domain: str, *, moderator: User | None = None
) -> None:
    configured = domain in config.federation.blocked_domains
    await _lift(session, DomainBlock, domain, configured, "blocked")
    moderation_log.record(session, moderator, "unblock_domain", domain)


async def _lift(
    session: AsyncSession,
    model: type[DomainBlock] | type[DomainAllow],
    domain: str,
    configured: bool,
    state: str,
) -> None:
    """Delete the stored block or allow of `domain`; one written in the file stays there."""
    row = await session.scalar(select(model).where(model.domain == domain))
    if row is None:
        if configured:
            raise ModerationError("domain", f"{domain} is {state} in the configuration file; remove it there")
        raise ModerationError("domain", f"{domain} is not {state}")
    await session.delete(row)
    await session.flush()


# --- what the public may read ------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedBlock:
    domain: str  # partly starred when the admin chose to obfuscate it
    severity: str
    comment: str


def obfuscated(domain: str) -> str:
    """Mastodon's obfuscation: the middle half of the name starred, the dots kept."""
    visible = len(domain) // 4
    return "".join(
        char if index <= visible or index >= len(domain) - visible or char == "." else "*"
        for index, char in enumerate(domain)
    )


async def published_blocks(session: AsyncSession, config: Config) -> list[PublishedBlock]:
    """The moderated servers as the about page lists them; none unless `[node]
    publish_domain_blocks` is on. A noop block without rejected media limits nothing anyone
    would see, so it is left out (as Mastodon does)."""
    if not config.node.publish_domain_blocks:
        return []
    found = []
    for block in await list_blocks(session, config):
        terms = block.terms
        if terms.severity == "noop" and not terms.reject_media:
            continue
        name = obfuscated(block.domain) if terms.obfuscate else block.domain
        found.append(PublishedBlock(name, terms.severity, terms.public_comment))
    return found


# --- allow-list federation ---------------------------------------------------------------------


async def list_allows(session: AsyncSession, config: Config) -> list[tuple[str, bool]]:
    """(domain, from the configuration file) for every allowed domain, sorted."""
    stored = set(await session.scalars(select(DomainAllow.domain)))
    configured = set(config.federation.allowed_domains) - stored
    return sorted([(d, False) for d in stored] + [(d, True) for d in configured])


async def allow_domain(
    session: AsyncSession, config: Config, domain: str, *, moderator: User | None = None
) -> str:
    normalised = check_remote_domain(config, domain)
    if await session.scalar(select(DomainAllow).where(DomainAllow.domain == normalised)) is None:
        session.add(DomainAllow(domain=normalised))
        moderation_log.record(session, moderator, "allow_domain", normalised)
        await session.flush()
    return normalised


async def disallow_domain(
    session: AsyncSession, config: Config, domain: str, *, moderator: User | None = None
) -> None:
    await _lift(session, DomainAllow, domain, domain in config.federation.allowed_domains, "allowed")
    moderation_log.record(session, moderator, "disallow_domain", domain)
