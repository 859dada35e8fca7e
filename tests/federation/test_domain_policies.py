"""The one rule for domains (federation/blocks.py): severities, the most specific block, ports,
allow-list mode; read from the table and the configuration on both back-ends."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation.blocks import SUSPENDED, DomainPolicies, DomainPolicy, domain_policies
from talentfed.storage.models import DomainAllow, DomainBlock

SILENCE = DomainPolicy("silence")


def _policies(rules: dict[str, DomainPolicy], allowed: frozenset[str] | None = None) -> DomainPolicies:
    return DomainPolicies(MappingProxyType(rules), allowed)


def test_a_block_covers_subdomains_and_the_most_specific_one_wins() -> None:
    policies = _policies({"spam.example": SUSPENDED, "ok.spam.example": SILENCE})
    assert policies.refuses("https://eu.spam.example/users/x")
    assert policies.for_domain("https://ok.spam.example/users/x") == SILENCE
    assert policies.for_domain("a.ok.spam.example") == SILENCE
    assert not policies.refuses("notspam.example") and not policies.limits("notspam.example")


def test_a_block_naming_a_port_covers_that_port_only() -> None:
    policies = _policies({"127.0.0.1:8001": SUSPENDED})
    assert policies.refuses("http://127.0.0.1:8001/users/x")
    assert not policies.refuses("http://127.0.0.1:8002/users/x")


def test_silence_limits_without_refusing_and_suspend_rejects_media() -> None:
    assert SILENCE.limited and not SILENCE.refused and not SILENCE.media_rejected
    assert SUSPENDED.limited and SUSPENDED.refused and SUSPENDED.media_rejected
    noop = DomainPolicy("noop", reject_media=True)
    assert noop.media_rejected and not noop.limited


def test_allow_list_mode_suspends_every_domain_not_allowed() -> None:
    policies = _policies({"bad.partner.example": SILENCE}, frozenset({"partner.example", "uni.example"}))
    assert not policies.refuses("https://partner.example/users/x")
    assert not policies.refuses("https://eu.partner.example/users/x")
    assert policies.refuses("https://elsewhere.example/users/x")
    assert policies.for_domain("bad.partner.example") == SILENCE  # a block still applies


def test_a_malformed_netloc_is_not_a_crash() -> None:
    assert not _policies({"spam.example": SUSPENDED}).refuses("http://[::1/x")


async def test_policies_read_the_table_and_the_configuration(session: AsyncSession, config: Config) -> None:
    session.add_all(
        [
            DomainBlock(domain="quiet.example", severity="silence", reject_media=True),
            DomainBlock(domain="both.example", severity="noop"),
            DomainAllow(domain="partner.example"),
        ]
    )
    await session.flush()
    federation = dataclasses.replace(config.federation, blocked_domains=("both.example", "cfg.example"))
    policies = await domain_policies(session, dataclasses.replace(config, federation=federation))
    assert policies.for_domain("quiet.example") == DomainPolicy("silence", reject_media=True)
    assert policies.refuses("both.example")  # the configuration's suspension is the stricter
    assert policies.refuses("cfg.example")
    assert not policies.refuses("anyone.example")  # open mode: the allows are not read

    allowlist = dataclasses.replace(federation, mode="allowlist", allowed_domains=("configured.example",))
    policies = await domain_policies(session, dataclasses.replace(config, federation=allowlist))
    assert not policies.refuses("partner.example") and not policies.refuses("configured.example")
    assert not policies.refuses(config.node.domain)  # never our own
    assert policies.refuses("anyone.example")
