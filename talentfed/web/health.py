"""GET /healthz: is the node up and can it reach its database?"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from talentfed import __version__
from talentfed.storage.db import DatabaseUnavailable, ping


async def healthz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    backend = engine.dialect.name
    try:
        await ping(engine, timeout=3.0)
    except DatabaseUnavailable as exc:
        body = {
            "status": "unavailable",
            "version": __version__,
            "database": {"backend": backend, "ok": False, "error": str(exc)},
        }
        return JSONResponse(body, status_code=503)
    body = {"status": "ok", "version": __version__, "database": {"backend": backend, "ok": True}}
    return JSONResponse(body)
