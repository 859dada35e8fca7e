"""The crawler against a real remote server: edges from collections, new actors, hidden lists, resume."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.members import NewMember, add_member
from talentfed.federation.crawler import Crawler, CrawlPolicy
from talentfed.federation.runtime import federation as open_federation
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, Follow
from tests.federation.remote_server import RemoteServer, RemoteUser

AS = "https://www.w3.org/ns/activitystreams"


def _collection(server: RemoteServer, path: str, members: list[str], *, page_size: int = 2) -> None:
    """Serve an OrderedCollection at `path`, paged `page_size` items a page (at path/page/N)."""
    base = f"{server.base}{path}"
    pages = [members[i : i + page_size] for i in range(0, len(members), page_size)] or [[]]
    server.serve(
        {
            "@context": AS,
            "id": base,
            "type": "OrderedCollection",
            "totalItems": len(members),
            "first": f"{base}/page/1",
        }
    )
    for number, items in enumerate(pages, start=1):
        page = {
            "@context": AS,
            "id": f"{base}/page/{number}",
            "type": "OrderedCollectionPage",
            "partOf": base,
            "orderedItems": items,
        }
        if number < len(pages):
            page["next"] = f"{base}/page/{number + 1}"
        server.serve(page)


def _publish(user: RemoteUser) -> None:
    user.extra["following"] = f"{user.uri}/following"


async def _graph(engine: AsyncEngine) -> set[tuple[str, str]]:
    async with session_factory(engine)() as session:
        rows = await session.execute(select(Follow.follower_id, Follow.followed_id))
        names = {a.id: a.username for a in await session.scalars(select(Actor))}
        return {(names[f], names[t]) for f, t in rows}


async def test_crawl_reads_collections_fetches_actors_and_resumes(
    config: Config, engine: AsyncEngine, remote: RemoteServer
) -> None:
    sessions = session_factory(engine)
    zoe, yan, xia, wes, hidden = (remote.add_user(n) for n in ("zoe", "yan", "xia", "wes", "hid"))
    for user in (zoe, yan, xia, wes, hidden):
        _publish(user)
    _collection(remote, "/users/zoe/followers", [yan.uri, xia.uri, wes.uri])  # two pages
    _collection(remote, "/users/zoe/following", [hidden.uri])
    _collection(remote, "/users/yan/following", [wes.uri])
    _collection(remote, "/users/yan/followers", [])
    remote.serve(
        {"@context": AS, "id": f"{hidden.uri}/followers", "type": "OrderedCollection", "totalItems": 7}
    )
    async with sessions() as session, session.begin():
        me = await add_member(session, config, NewMember("me", "Me"))
    async with open_federation(config, sessions) as federation:
        zoe_actor = await federation.actors.get(zoe.uri)
        async with sessions() as session, session.begin():
            session.add(Follow(follower_id=me.id, followed_id=zoe_actor.id, state="accepted"))

        crawler = Crawler(
            sessions,
            federation.fetcher,
            federation.actors,
            config,
            CrawlPolicy(depth=1, per_host_interval=0.0),
        )
        progress = await crawler.run()
    edges = await _graph(engine)
    assert {("yan", "zoe"), ("xia", "zoe"), ("wes", "zoe"), ("zoe", "hid"), ("yan", "wes")} <= edges
    assert progress.new_actors == 4  # yan, xia, wes, hid fetched
    assert progress.hidden >= 1  # hid's followers: a count, no pages
    assert remote.gets["/users/zoe/followers/page/2"] == 1  # pages were followed

    # A second run resumes: nothing is due again, nothing is fetched again.
    before = sum(remote.gets.values())
    async with open_federation(config, sessions) as federation:
        again = await Crawler(
            sessions, federation.fetcher, federation.actors, config, CrawlPolicy(depth=1)
        ).run()
    assert again.crawled == 0 and sum(remote.gets.values()) == before


async def test_blocked_domains_are_not_crawled(
    config: Config, engine: AsyncEngine, remote: RemoteServer
) -> None:
    sessions = session_factory(engine)
    zoe = remote.add_user("zoe")
    _publish(zoe)
    async with sessions() as session, session.begin():
        me = await add_member(session, config, NewMember("me", "Me"))
    async with open_federation(config, sessions) as federation:
        zoe_actor = await federation.actors.get(zoe.uri)
        async with sessions() as session, session.begin():
            session.add(Follow(follower_id=me.id, followed_id=zoe_actor.id, state="accepted"))
            session.add(DomainBlock(domain="127.0.0.1"))
        progress = await Crawler(sessions, federation.fetcher, federation.actors, config).run()
    assert progress.crawled == 0
    assert remote.gets["/users/zoe/followers"] == 0
