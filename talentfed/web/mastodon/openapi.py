"""`GET /api/v1/openapi.json`: the OpenAPI description of the client API, for client authors
and for schemathesis (docs/clients.md says how to run it against a node).

The description is data, `openapi.yaml` beside this module; tests/web/mastodon/test_openapi.py
keeps it and the routes in step.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from talentfed.web.mastodon.instance import VERSION

DESCRIPTION = Path(__file__).with_name("openapi.yaml")


@functools.cache
def description() -> dict[str, Any]:
    """The description as a document, its version the one `/api/v1/instance` states."""
    document: dict[str, Any] = yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))
    document["info"]["version"] = VERSION
    return document


@functools.cache
def _served() -> bytes:
    return json.dumps(description(), ensure_ascii=False, separators=(",", ":")).encode()


async def openapi_json(request: Request) -> Response:
    return Response(_served(), media_type="application/json")


routes = [Route("/api/v1/openapi.json", openapi_json)]
