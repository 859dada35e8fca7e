"""GET /healthz: is the node up and can it reach its database? GET /readyz: may a load balancer
send it traffic: database reachable and its schema one this release can run on."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from talentfed import __version__
from talentfed.storage import migrate
from talentfed.storage.db import DatabaseUnavailable, ping


async def _database(request: Request) -> tuple[dict[str, Any], bool]:
    engine = request.app.state.engine
    try:
        await ping(engine, timeout=3.0)
    except DatabaseUnavailable as exc:
        return {"backend": engine.dialect.name, "ok": False, "error": str(exc)}, False
    return {"backend": engine.dialect.name, "ok": True}, True


async def healthz(request: Request) -> JSONResponse:
    database, ok = await _database(request)
    body = {"status": "ok" if ok else "unavailable", "version": __version__, "database": database}
    return JSONResponse(body, status_code=200 if ok else 503)


async def readyz(request: Request) -> JSONResponse:
    """503 while the database is unreachable or migrations are pending (`talentfed migrate`).
    A schema newer than this release is ready: during an upgrade, the previous release keeps
    serving after the new one migrated (docs/deploy.md)."""
    database, ok = await _database(request)
    body: dict[str, Any] = {"status": "unavailable", "version": __version__, "database": database}
    if not ok:
        return JSONResponse(body, status_code=503)
    state = await migrate.schema_state(request.app.state.engine)
    database["schema"] = {"revision": state.current, "head": state.head, "pending": list(state.pending)}
    if state.up_to_date:
        body["status"] = "ready"
    return JSONResponse(body, status_code=200 if state.up_to_date else 503)
