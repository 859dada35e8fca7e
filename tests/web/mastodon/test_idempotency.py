"""`Idempotency-Key` on `POST /api/v1/statuses`: the same member and key within the hour answer
the same status and publish nothing again, also when both requests arrive at once (on SQLite
and PostgreSQL alike: the unique index decides)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import idempotency
from talentfed.domain.demo import ensure_demo
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, IdempotencyKey, Object, utcnow
from tests.web.mastodon.test_posting import _token


async def _creates(engine: AsyncEngine, text: str) -> tuple[int, int]:
    """How many posts have `text` as their source, and how many Creates went out for them."""
    async with session_factory(engine)() as session:
        uris = list(await session.scalars(select(Object.uri).where(Object.source == text)))
        sent = await session.scalar(
            select(func.count()).where(Activity.type == "Create", Activity.object_uri.in_(uris))
        )
    return len(uris), sent or 0


def _keyed(auth: dict[str, str], key: str) -> dict[str, str]:
    return {**auth, "Idempotency-Key": key}


async def test_the_same_key_answers_the_same_status(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    first = await demo_client.post("/api/v1/statuses", json={"status": "Once"}, headers=_keyed(auth, "k-1"))
    assert first.status_code == 200, first.text
    retry = await demo_client.post("/api/v1/statuses", json={"status": "Once"}, headers=_keyed(auth, "k-1"))
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    assert await _creates(engine, "Once") == (1, 1)

    # Another key, or none, is another status.
    other = await demo_client.post("/api/v1/statuses", json={"status": "Once"}, headers=_keyed(auth, "k-2"))
    plain = await demo_client.post("/api/v1/statuses", json={"status": "Once"}, headers=auth)
    assert len({first.json()["id"], other.json()["id"], plain.json()["id"]}) == 3
    assert await _creates(engine, "Once") == (3, 3)


async def test_requests_at_once_with_one_key_make_one_status(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    answers = await asyncio.gather(
        *(
            demo_client.post("/api/v1/statuses", json={"status": "At once"}, headers=_keyed(auth, "same"))
            for _ in range(5)
        )
    )
    assert [answer.status_code for answer in answers] == [200] * 5, [a.text for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert await _creates(engine, "At once") == (1, 1)


async def test_a_key_is_kept_for_an_hour(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    auth = await _token(demo_client)
    first = await demo_client.post(
        "/api/v1/statuses", json={"status": "Hourly"}, headers=_keyed(auth, "hour")
    )
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(minutes=61)))
    later = await demo_client.post(
        "/api/v1/statuses", json={"status": "Hourly"}, headers=_keyed(auth, "hour")
    )
    assert later.status_code == 200 and later.json()["id"] != first.json()["id"]
    assert await _creates(engine, "Hourly") == (2, 2)
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1  # expired: gone


async def test_a_refused_status_does_not_use_up_its_key(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    blank = await demo_client.post("/api/v1/statuses", json={"status": "  "}, headers=_keyed(auth, "retry"))
    assert blank.status_code == 422
    fixed = await demo_client.post(
        "/api/v1/statuses", json={"status": "Fixed"}, headers=_keyed(auth, "retry")
    )
    assert fixed.status_code == 200 and "Fixed" in fixed.json()["content"]


async def test_a_deleted_status_is_not_answered_again(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    first = await demo_client.post("/api/v1/statuses", json={"status": "Gone"}, headers=_keyed(auth, "del"))
    assert (
        await demo_client.delete(f"/api/v1/statuses/{first.json()['id']}", headers=auth)
    ).status_code == 200
    again = await demo_client.post("/api/v1/statuses", json={"status": "Gone"}, headers=_keyed(auth, "del"))
    assert again.status_code == 404 and again.json() == {"error": "Record not found"}


@pytest.mark.parametrize(
    ("key", "says"),
    [("k" * 256, "at most 255 characters"), ("tab\there", "printable ASCII"), ("clé", "printable ASCII")],
)
async def test_odd_keys_are_refused(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, key: str, says: str
) -> None:
    auth = await _token(demo_client)
    headers = [(name.encode(), value.encode("latin-1")) for name, value in _keyed(auth, key).items()]
    response = await demo_client.post("/api/v1/statuses", json={"status": "Keyed"}, headers=headers)
    assert response.status_code == 422 and says in response.json()["error"], response.text
    assert await _creates(engine, "Keyed") == (0, 0)
    fits = await demo_client.post(
        "/api/v1/statuses", json={"status": "Keyed"}, headers=_keyed(auth, "k" * 255)
    )
    assert fits.status_code == 200


async def test_keys_are_each_members_own(engine: AsyncEngine, config: Config) -> None:
    async with session_factory(engine)() as session, session.begin():
        await ensure_demo(session, config)
        ada, grace = await find_local_actor(session, "ada"), await find_local_actor(session, "grace")
        adas = await idempotency.publish_once(session, config, ada, Draft(kind="note", body="a"), "shared")
        graces = await idempotency.publish_once(
            session, config, grace, Draft(kind="note", body="g"), "shared"
        )
        again = await idempotency.publish_once(session, config, ada, Draft(kind="note", body="a2"), "shared")
    assert adas.id != graces.id and again.id == adas.id
    assert (adas.author_id, graces.author_id) == (ada.id, grace.id)


async def test_a_second_request_waits_for_the_first_and_answers_its_post(
    engine: AsyncEngine, config: Config
) -> None:
    """The race itself, step by step: the second claim comes while the first transaction is
    still open. It must wait (SQLite's write lock, PostgreSQL's unique index), then answer the
    first post; a check-then-insert would publish twice here (or fail on the index)."""
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await ensure_demo(session, config)
    first_published, may_commit = asyncio.Event(), asyncio.Event()

    async def publish(body: str, *, hold: bool) -> int:
        if not hold:
            await first_published.wait()
        async with sessions() as session, session.begin():
            ada = await find_local_actor(session, "ada")
            post = await idempotency.publish_once(session, config, ada, Draft(kind="note", body=body), "race")
            if hold:
                first_published.set()
                await may_commit.wait()
            return post.id

    first = asyncio.create_task(publish("first", hold=True))
    second = asyncio.create_task(publish("second", hold=False))
    await first_published.wait()
    await asyncio.sleep(0.3)
    assert not second.done()  # waiting for the first transaction
    may_commit.set()
    assert await first == await second
    assert await _creates(engine, "first") == (1, 1) and await _creates(engine, "second") == (0, 0)
