"""From the first schema to head one revision at a time, with data in the tables, on both back-ends.

Before each step the test writes rows into the tables that exist at that revision (a node's
members, remote actors, posts, follows, likes and boosts, deliveries, OAuth apps and tokens, …);
after each step every row written so far must hold its values, and those a migration fills in
(backfills) hold what it computes. At head the application reads the migrated rows through its
own routes and queries. Then the schema goes down to the first revision and up again: the rows
of the first revision's tables survive the round trip (what later revisions added goes with
their tables and columns, as a downgrade must).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config, load_config
from talentfed.domain.search import SearchQuery, search
from talentfed.storage import migrate
from talentfed.storage.db import create_engine, session_factory
from talentfed.web.app import create_app
from tests.storage.revision_rows import (
    ACCESS_TOKEN,
    BACKFILLS,
    BASE,
    REMOTE,
    SEEDS,
    Seed,
    check_copied_attachments,
    check_search_documents,
)
from tests.storage.seeded_rows import schema_columns
from tests.support import write_config

FIRST_TABLES = {
    "alembic_version", "activities", "actors", "delivery_jobs", "domain_blocks", "follows", "instances",
    "interactions", "objects", "users",
}  # fmt: skip

# --- the application on the migrated rows ------------------------------------------------


def node_config(tmp_path: Path, url: str) -> Config:
    return load_config(write_config(tmp_path, url), environ={})


async def read_through_the_app(config: Config, engine: AsyncEngine, seed: Seed, *, with_token: bool) -> None:
    """The actor document, a post, search, and (while the OAuth tables are there) the home timeline."""
    app = create_app(config, engine=engine, run_workers=False)  # the queued delivery stays queued
    activity_json = {"Accept": "application/activity+json"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
    ):
        actor = (await client.get("/users/alice", headers=activity_json)).json()
        assert actor["id"] == f"{BASE}/users/alice" and actor["name"] == "Alice"
        assert actor["publicKey"]["publicKeyPem"] == seed.keys[1]

        post = await client.get("/objects/note", headers=activity_json)
        assert post.status_code == 200 and post.json()["content"] == "<p>Seminar at noon.</p>"
        hidden = await client.get("/objects/private_note", headers=activity_json)
        assert hidden.status_code in (401, 403, 404), "a followers-only post is not public after migrating"

        if with_token:
            response = await client.get(
                "/api/v1/timelines/home", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}
            )
            assert response.status_code == 200, response.text
            timeline = [
                (status["reblog"]["uri"], "reblog") if status["reblog"] else (status["uri"], "post")
                for status in response.json()
            ]
            # Alice's own posts, Bob's (she follows him) and his boosts, each boost where its
            # `after_post_id` (0015's backfill, or the value written at 0015) places it.
            assert timeline == [
                (f"{REMOTE}/notes/carol_note", "reblog"),
                (f"{REMOTE}/notes/carol_thesis", "reblog"),
                (f"{REMOTE}/notes/remote_note", "post"),
                *((f"{BASE}/objects/{name}", "post") for name in ("private_note", "note", "article")),
            ]

    async with session_factory(engine)() as session:
        found = await search(session, config, SearchQuery(text="citation"))
        assert [hit.uri for hit in found.hits] == [f"{BASE}/objects/article"]
        people = await search(session, config, SearchQuery(text="robot", kind="people"))
        assert [hit.uri for hit in people.hits] == [f"{REMOTE}/users/dan"]


# --- the test -----------------------------------------------------------------------------


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_every_migration_keeps_the_rows_written_before_it(
    fresh_database, backend_name: str, tmp_path: Path, rsa_key_pool
) -> None:
    url = fresh_database(backend_name, schema=False)
    engine = create_engine(url)
    seed = Seed(keys=rsa_key_pool[0], institution_keys=rsa_key_pool[1])
    revisions = migrate.state_of(None).pending
    assert revisions[0] == "0001" and set(SEEDS) | set(BACKFILLS) <= set(revisions)
    try:
        for revision in revisions:
            await migrate.upgrade(engine, revision)
            BACKFILLS.get(revision, lambda seed: None)(seed)
            async with engine.begin() as c:
                assert await seed.rows.check(c) == len(seed.rows.expected), f"after {revision}"
                if revision in SEEDS:
                    await SEEDS[revision](seed, c)
        assert revision == migrate.head_revision()
        async with engine.connect() as c:
            await check_search_documents(seed, c)
            await check_copied_attachments(seed, c)
        config = node_config(tmp_path, url)
        await read_through_the_app(config, engine, seed, with_token=True)

        # Down one revision at a time to the first, with the rows in place, and up again.
        for revision in reversed(revisions[:-1]):
            await migrate.downgrade(engine, revision)
        async with engine.connect() as c:
            first = await schema_columns(c)
            assert set(first) == FIRST_TABLES
            await seed.rows.check(c, first)  # actors, posts, follows, … with their first columns
        await migrate.upgrade(engine)
        async with engine.connect() as c:
            await seed.rows.check(c, first)
            await check_search_documents(seed, c)
        await read_through_the_app(config, engine, seed, with_token=False)
    finally:
        await engine.dispose()
