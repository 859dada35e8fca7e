"""A silenced domain: its public posts stay off the public timeline and search, its accounts
off discovery and rankings, its notifications away from members who do not follow them — and
a follower still sees all of it. On both back-ends."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.notifications import notifications_for
from talentfed.domain.observed_graph import load_observed
from talentfed.domain.search import SearchQuery, search
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, Follow, Interaction
from tests.support import post_row, remote_actor
from tests.web.mastodon.test_markers import token_of
from tests.web.mastodon.test_oauth import bearer, member_token, register


@dataclasses.dataclass
class Scene:
    loud_post: str  # uri of the silenced author's public post
    open_post: str  # uri of a public post on a domain that is not moderated
    loud_id: int
    ada_id: int
    grace_id: int


@pytest.fixture
async def scene(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> Scene:
    """loud@quiet.example (silenced) and kim@lab.example each post publicly and like a post of
    ada's and of grace's; grace follows loud, ada does not."""
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        grace = await session.scalar(select(Actor).where(Actor.username == "grace", Actor.local.is_(True)))
        assert ada is not None and grace is not None
        flags = {"discoverable": True, "indexable": True, "skills": ["zebrafish"]}
        loud, kim = (
            remote_actor("loud", "quiet.example", **flags),
            remote_actor("kim", "lab.example", **flags),
        )
        session.add_all([loud, kim, DomainBlock(domain="quiet.example", severity="silence")])
        await session.flush()
        text = {"visibility": "public", "content": "<p>zebrafish genetics</p>", "name": "Zebrafish"}
        loud_post = post_row(loud, "loud-1", "article", **text)
        open_post = post_row(kim, "kim-1", "article", **text)
        ada_post = post_row(ada, "ada-liked", local=True, visibility="public", content="<p>x</p>")
        grace_post = post_row(grace, "grace-liked", local=True, visibility="public", content="<p>y</p>")
        session.add_all([loud_post, open_post, ada_post, grace_post])
        await session.flush()
        session.add(Follow(follower_id=grace.id, followed_id=loud.id, state="accepted"))
        for who in (loud, kim):
            for post, owner in ((ada_post, ada), (grace_post, grace)):
                session.add(
                    Interaction(kind="like", actor_id=who.id, object_id=post.id, target_actor_id=owner.id)
                )
        return Scene(loud_post.uri, open_post.uri, loud.id, ada.id, grace.id)


async def _public_timeline(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> list[str]:
    response = await client.get("/api/v1/timelines/public", params={"remote": "true"}, headers=headers or {})
    assert response.status_code == 200, response.text
    return [status["uri"] for status in response.json()]


async def test_the_public_timeline_leaves_silenced_posts_to_followers(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    anonymous = await _public_timeline(demo_client)
    assert scene.open_post in anonymous and scene.loud_post not in anonymous
    ada_token = await member_token(demo_client, await register(demo_client))
    ada = await _public_timeline(demo_client, bearer(str(ada_token["access_token"])))
    assert scene.open_post in ada and scene.loud_post not in ada
    grace = await _public_timeline(demo_client, await token_of(demo_client, engine, "grace"))
    assert scene.loud_post in grace and scene.open_post in grace


async def test_search_and_discovery_leave_silenced_accounts_out_but_not_for_followers(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config, scene: Scene
) -> None:
    async with session_factory(engine)() as session:
        anyone = [hit.uri for hit in (await search(session, config, SearchQuery(text="zebrafish"))).hits]
        follower = SearchQuery(text="zebrafish", reader_id=scene.grace_id)
        grace = [hit.uri for hit in (await search(session, config, follower)).hits]
        observed = await load_observed(session, config)
    assert scene.open_post in anyone and scene.loud_post not in anyone
    assert not any("quiet.example" in uri for uri in anyone)  # nor the silenced person
    assert scene.loud_post in grace and scene.open_post in grace
    visible = {info.uri.split("/")[2]: info.visible for info in observed.actors if not info.local}
    assert visible == {"quiet.example": False, "lab.example": True}  # rankings, recommendations


async def test_notifications_from_a_silenced_domain_reach_only_its_followers(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config, scene: Scene
) -> None:
    async with session_factory(engine)() as session:
        ada, grace = await session.get(Actor, scene.ada_id), await session.get(Actor, scene.grace_id)
        assert ada is not None and grace is not None
        adas = {(n.kind, n.who.handle) for n in await notifications_for(session, ada, config=config)}
        graces = {(n.kind, n.who.handle) for n in await notifications_for(session, grace, config=config)}
    assert ("like", "kim@lab.example") in adas and ("like", "loud@quiet.example") not in adas
    assert {("like", "kim@lab.example"), ("like", "loud@quiet.example")} <= graces


async def test_the_analytics_snapshot_leaves_a_newly_silenced_domain_out_at_once(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config, scene: Scene
) -> None:
    from talentfed.domain.analytics_snapshot import AnalyticsSnapshot

    snapshot = AnalyticsSnapshot(session_factory(engine), config)

    def listed(observed) -> dict[str, bool]:
        return {info.uri.split("/")[2]: info.visible for info in observed.actors if not info.local}

    assert listed(await snapshot.observed())["lab.example"] is True
    same = await snapshot.observed()
    assert same is await snapshot.observed()  # nothing changed: the loaded snapshot is reused
    async with session_factory(engine)() as session, session.begin():
        session.add(DomainBlock(domain="lab.example", severity="silence"))
    assert listed(await snapshot.observed()) == {"quiet.example": False, "lab.example": False}
