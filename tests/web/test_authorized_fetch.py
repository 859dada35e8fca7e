"""Authorized fetch: signed GETs required for collections, technical-only actors when unsigned."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.demo import ensure_demo
from talentfed.federation.signatures import generate_rsa_keypair
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor
from talentfed.web.app import create_app
from tests.support.signing import signed_headers

BASE = "http://127.0.0.1:8000"
ACCEPT = "application/activity+json"


def _secure(config: Config, **federation: object) -> Config:
    changes = {"authorized_fetch": True, **federation}
    return dataclasses.replace(config, federation=dataclasses.replace(config.federation, **changes))


async def _client(config: Config, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with session_factory(engine)() as session, session.begin():
        await ensure_demo(session, config)
    app = create_app(config, engine=engine, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield client


@pytest.fixture
async def secure_client(config: Config, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(_secure(config), engine):
        yield client


async def _key_of(engine: AsyncEngine, username: str) -> tuple[str, str]:
    async with session_factory(engine)() as session:
        actor = await session.scalar(select(Actor).where(Actor.username == username))
        return actor.public_key_id, actor.private_key_pem


def _signed(path: str, key_id: str, private_pem: str) -> dict[str, str]:
    return signed_headers("GET", BASE + path, key_id=key_id, private_pem=private_pem)


async def test_unsigned_collection_fetch_is_refused(secure_client: httpx.AsyncClient) -> None:
    response = await secure_client.get("/users/grace/followers", headers={"Accept": ACCEPT})
    assert response.status_code == 401
    assert "signed fetches" in response.json()["error"]
    assert "Signature" in response.headers["vary"]


async def test_signed_collection_fetch_is_served(
    secure_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    key_id, private_pem = await _key_of(engine, "ada")
    response = await secure_client.get(
        "/users/grace/followers", headers=_signed("/users/grace/followers", key_id, private_pem)
    )
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "OrderedCollection"


async def test_badly_signed_fetch_is_refused(secure_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    key_id, _ = await _key_of(engine, "ada")
    wrong_pem, _ = generate_rsa_keypair()
    response = await secure_client.get(
        "/users/grace/outbox", headers=_signed("/users/grace/outbox", key_id, wrong_pem)
    )
    assert response.status_code == 401


async def test_unsigned_actor_fetch_shows_only_technical_attributes(secure_client: httpx.AsyncClient) -> None:
    actor = (await secure_client.get("/users/grace", headers={"Accept": ACCEPT})).json()
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert actor["inbox"] == f"{BASE}/users/grace/inbox"
    for private in ("summary", "name", "skills", "attachment", "headline"):
        assert private not in actor


async def test_signed_actor_fetch_is_complete(secure_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    key_id, private_pem = await _key_of(engine, "ada")
    actor = (
        await secure_client.get("/users/grace", headers=_signed("/users/grace", key_id, private_pem))
    ).json()
    assert actor["name"] == "Grace Lindqvist" and "skills" in actor


async def test_institution_actor_is_always_complete(secure_client: httpx.AsyncClient) -> None:
    actor = (await secure_client.get("/users/institution", headers={"Accept": ACCEPT})).json()
    assert actor["type"] == "Organization" and actor["name"]


async def test_blocked_signer_is_refused(config: Config, engine: AsyncEngine) -> None:
    async for client in _client(_secure(config, blocked_domains=("127.0.0.1",)), engine):
        key_id, private_pem = await _key_of(engine, "ada")
        response = await client.get(
            "/users/grace/following", headers=_signed("/users/grace/following", key_id, private_pem)
        )
        assert response.status_code == 403
        actor = await client.get("/users/grace", headers=_signed("/users/grace", key_id, private_pem))
        assert actor.status_code == 403


async def test_browsers_are_not_affected(secure_client: httpx.AsyncClient) -> None:
    page = await secure_client.get("/users/grace", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Grace Lindqvist" in page.text
