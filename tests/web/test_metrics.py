"""GET /metrics: who may scrape it, what HTTP requests it counts, and the delivery queue as the
database holds it at each scrape (on both back-ends)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.federation import activities, outbox
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import DeliveryJob, Instance, utcnow
from talentfed.web.app import create_app
from tests.support.factories import local_actor_row
from tests.support.metrics import Scrape, scrape

TOKEN = "s3cret-scrape-token-0123456789"


def _with_metrics(config: Config, **settings: object) -> Config:
    return dataclasses.replace(config, metrics=dataclasses.replace(config.metrics, **settings))


@contextlib.asynccontextmanager
async def _client(
    config: Config, engine: AsyncEngine, address: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process, its requests coming from `address`."""
    app = create_app(config, engine=engine, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=config.node.base_url) as client:
            yield client


# --- what is counted --------------------------------------------------------------------------


async def test_requests_are_counted_by_route_template_and_status(config: Config, engine: AsyncEngine) -> None:
    async with _client(config, engine) as client:
        before = await scrape(client)
        for name in ("zed", "ymir", "xavier"):
            assert (await client.get(f"/users/{name}")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/no/such/page/3f9a")).status_code == 404
        after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("talentfed_http_requests_total", method="GET", route="/users/{username}", status="404") == 3
    assert moved("talentfed_http_requests_total", method="GET", route="/healthz", status="200") == 1
    assert moved("talentfed_http_requests_total", method="GET", route="unmatched", status="404") == 1
    timed = moved("talentfed_http_request_duration_seconds_count", method="GET", route="/users/{username}")
    assert timed == 3
    # The scrape before was counted too, once it had been answered.
    assert moved("talentfed_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    # Labels are templates: no path a client made up becomes a label value.
    routes = after.label_values("talentfed_http_requests_total", "route")
    assert not any(made_up in after.text for made_up in ("zed", "ymir", "xavier", "3f9a"))
    assert "/users/{username}" in routes and all(r.startswith("/") or r == "unmatched" for r in routes)


async def test_an_unknown_method_is_counted_as_other(config: Config, engine: AsyncEngine) -> None:
    async with _client(config, engine) as client:
        before = await scrape(client)
        await client.request("BREW", "/healthz")
        after = await scrape(client)
    labels = {"method": "other", "route": "/healthz", "status": "405"}
    assert after.value("talentfed_http_requests_total", **labels) == (
        before.value("talentfed_http_requests_total", **labels) + 1
    )
    assert "BREW" not in after.text


# --- who may scrape ---------------------------------------------------------------------------


async def test_by_default_only_the_loopback_address_may_scrape(config: Config, engine: AsyncEngine) -> None:
    for address in ("127.0.0.1", "::1"):
        async with _client(config, engine, address) as client:
            assert (await client.get("/metrics")).status_code == 200, address
    async with _client(config, engine, "203.0.113.9") as client:
        refused = await client.get("/metrics")
    assert refused.status_code == 403
    assert "loopback address only, not 203.0.113.9" in refused.text and "[metrics] token" in refused.text
    assert "talentfed_" not in refused.text


async def test_behind_the_proxy_the_client_is_who_it_forwards(config: Config, engine: AsyncEngine) -> None:
    """nginx on 127.0.0.1 passes on a request from outside: that client is refused, not let in
    as the proxy's loopback address."""
    async with _client(config, engine, "127.0.0.1") as client:
        forwarded = await client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert forwarded.status_code == 403 and "not 198.51.100.7" in forwarded.text
    # A client that is not a trusted proxy cannot claim to be the loopback address.
    async with _client(config, engine, "203.0.113.9") as client:
        claimed = await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert claimed.status_code == 403


async def test_with_a_token_any_address_that_presents_it_may_scrape(
    config: Config, engine: AsyncEngine
) -> None:
    config = _with_metrics(config, token=TOKEN)
    async with _client(config, engine, "203.0.113.9") as client:
        bare = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer <token>" in bare.text
    assert wrong.status_code == 403 and "not the one of [metrics] token" in wrong.text
    assert right.status_code == 200 and "talentfed_http_requests_total" in right.text
    # With a token, the loopback address needs it too.
    async with _client(config, engine, "127.0.0.1") as client:
        assert (await client.get("/metrics")).status_code == 401


async def test_disabled_metrics_are_not_served(config: Config, engine: AsyncEngine) -> None:
    async with _client(_with_metrics(config, enabled=False), engine) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404 and "talentfed_" not in response.text


# --- read from the database at each scrape -----------------------------------------------------


async def test_the_delivery_queue_is_read_from_the_database_at_each_scrape(
    config: Config, engine: AsyncEngine
) -> None:
    sessions = session_factory(engine)
    now = utcnow()
    async with sessions() as session, session.begin():
        author = local_actor_row("ada", config.node.domain)
        session.add(author)
        await session.flush()
        activity = await outbox.store_local_activity(
            session, author, activities.build(config, "Create", author, {"type": "Note"})
        )
        activity_id, author_id = activity.id, author.id

    def job(n: int, state: str, **fields: object) -> DeliveryJob:
        host = f"h{n}.example"
        values = {"state": state, "next_attempt_at": now - timedelta(seconds=5)} | fields
        inbox = f"https://{host}/inbox"
        return DeliveryJob(activity_id=activity_id, signer_id=author_id, inbox_url=inbox, host=host, **values)

    async with sessions() as session, session.begin():
        session.add_all(
            [
                job(1, "queued"),
                job(2, "queued"),
                job(3, "queued", next_attempt_at=now + timedelta(hours=1), attempts=2),  # backing off
                job(4, "running", lease_until=now + timedelta(minutes=5), claimed_by="worker-x"),
                job(5, "done"),
                job(6, "dead"),
                Instance(host="h6.example", unreachable_since=now),
                Instance(host="h5.example", last_success_at=now),
            ]
        )

    def queue(result: Scrape) -> dict[str, float]:
        states = ("due", "deferred", "running")
        return {state: result.value("talentfed_delivery_queue_jobs", state=state) for state in states}

    async with _client(config, engine) as client:
        first = await scrape(client)
        assert first.value("talentfed_metrics_database_up") == 1
        assert queue(first) == {"due": 2, "deferred": 1, "running": 1}
        assert first.value("talentfed_unreachable_hosts") == 1

        # Another process (its own engine) queues a job and finishes the running one: the next
        # scrape sees both, with nothing kept in this process's memory.
        other = create_engine(engine.url.render_as_string(hide_password=False))
        try:
            async with session_factory(other)() as session, session.begin():
                session.add(job(7, "queued"))
                await session.execute(
                    update(DeliveryJob).where(DeliveryJob.state == "running").values(state="done")
                )
        finally:
            await other.dispose()
        second = await scrape(client)
    assert queue(second) == {"due": 3, "deferred": 1, "running": 0}
    assert second.value("talentfed_unreachable_hosts") == 1


async def test_a_scrape_still_answers_when_the_database_does_not(config: Config) -> None:
    unreachable = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    down = dataclasses.replace(config, database=dataclasses.replace(config.database, url=unreachable))
    engine = create_engine(unreachable)
    try:
        async with _client(down, engine) as client:
            result = await scrape(client)
    finally:
        await engine.dispose()
    assert result.value("talentfed_metrics_database_up") == 0
    assert "talentfed_delivery_queue_jobs" not in result.text
    assert "talentfed_http_requests_total" in result.text
