"""The node's rules and contact (`[node] rules`, `admin_contact`, `contact_account`): the same on
the home page, in the client API's instance documents and in NodeInfo."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.demo import ensure_demo
from talentfed.storage.db import session_factory
from talentfed.web.app import create_app

RULES = ("Be civil.", "Credit your co-authors & sources <always>.")


async def _client(config: Config, engine: AsyncEngine, **node: object) -> AsyncIterator[httpx.AsyncClient]:
    configured = dataclasses.replace(config, node=dataclasses.replace(config.node, **node))
    async with session_factory(engine)() as session, session.begin():
        await ensure_demo(session, configured)
    app = create_app(configured, engine=engine, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=config.node.base_url) as client:
            yield client


@pytest.fixture
async def with_contact(config: Config, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(config, engine, rules=RULES, contact_account="ada"):
        yield client


@pytest.fixture
async def without_rules(config: Config, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(config, engine, rules=(), contact_account="nobody_here"):
        yield client


async def test_the_home_page_shows_the_rules_and_whom_to_contact(
    with_contact: httpx.AsyncClient, config: Config
) -> None:
    page = (await with_contact.get("/")).text
    assert '<li id="rule-1">Be civil.</li>' in page
    assert "Credit your co-authors &amp; sources &lt;always&gt;." in page  # escaped, never markup
    assert f'href="mailto:{config.node.admin_contact}"' in page
    assert f"@ada@{config.node.domain}" in page


async def test_apps_read_the_same_rules_and_the_contact_account(
    with_contact: httpx.AsyncClient, config: Config
) -> None:
    expected = [{"id": "1", "text": RULES[0], "hint": ""}, {"id": "2", "text": RULES[1], "hint": ""}]
    assert (await with_contact.get("/api/v1/instance/rules")).json() == expected
    v1 = (await with_contact.get("/api/v1/instance")).json()
    v2 = (await with_contact.get("/api/v2/instance")).json()
    assert v1["rules"] == v2["rules"] == expected
    assert v1["contact_account"]["acct"] == "ada" and v2["contact"]["account"]["acct"] == "ada"
    assert v2["contact"]["email"] == config.node.admin_contact


async def test_nodeinfo_carries_the_rules_and_the_maintainer(
    with_contact: httpx.AsyncClient, config: Config
) -> None:
    metadata = (await with_contact.get("/nodeinfo/2.1")).json()["metadata"]
    assert [rule["text"] for rule in metadata["rules"]] == list(RULES)
    assert metadata["maintainer"] == {
        "name": f"@ada@{config.node.domain}",
        "email": config.node.admin_contact,
    }


async def test_no_rules_and_a_contact_that_names_no_member(without_rules: httpx.AsyncClient) -> None:
    assert (await without_rules.get("/api/v1/instance/rules")).json() == []
    assert (await without_rules.get("/api/v1/instance")).json()["contact_account"] is None
    assert (await without_rules.get("/api/v2/instance")).json()["contact"]["account"] is None
    assert "This server has not published rules." in (await without_rules.get("/")).text
    assert (await without_rules.get("/nodeinfo/2.0")).json()["metadata"]["maintainer"]["name"] == ""
