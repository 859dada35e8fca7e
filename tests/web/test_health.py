"""GET /healthz reports the database's state."""

from __future__ import annotations

import dataclasses

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.storage.db import create_engine
from talentfed.web.app import create_app


async def _get(app, path: str) -> httpx.Response:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers={"X-Request-Id": "abc-123"})


async def test_healthz_ok(config: Config, engine: AsyncEngine, backend: str) -> None:
    response = await _get(create_app(config, engine=engine), "/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == {"backend": backend, "ok": True}
    assert response.headers["x-request-id"] == "abc-123"


async def test_healthz_503_when_database_is_down(config: Config) -> None:
    unreachable = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    down = dataclasses.replace(config, database=dataclasses.replace(config.database, url=unreachable))
    engine = create_engine(unreachable)
    response = await _get(create_app(down, engine=engine), "/healthz")
    await engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"]["ok"] is False
    assert body["database"]["error"]


async def test_readyz_ready_at_head(config: Config, engine: AsyncEngine, backend: str) -> None:
    response = await _get(create_app(config, engine=engine), "/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    schema = body["database"]["schema"]
    assert schema["revision"] == schema["head"] and schema["pending"] == []


async def test_readyz_503_while_migrations_are_pending(config: Config, tmp_path) -> None:
    from talentfed.storage import migrate

    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    behind = dataclasses.replace(config, database=dataclasses.replace(config.database, url=url))
    engine = create_engine(url)
    try:
        empty = await _get(create_app(behind, engine=engine), "/readyz")
        await migrate.upgrade(engine, "0005")
        partial = await _get(create_app(behind, engine=engine), "/readyz")
        async with engine.begin() as connection:  # as if a newer release had migrated it
            await connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
        newer = await _get(create_app(behind, engine=engine), "/readyz")
    finally:
        await engine.dispose()
    assert empty.status_code == 503 and empty.json()["database"]["schema"]["revision"] is None
    assert partial.status_code == 503
    schema = partial.json()["database"]["schema"]
    assert schema["revision"] == "0005" and schema["pending"][0] == "0006"
    assert schema["pending"][-1] == schema["head"]
    assert newer.status_code == 200 and newer.json()["status"] == "ready"
