"""The client API's OpenAPI description (web/mastodon/openapi.yaml), kept honest.

- The node serves it at /api/v1/openapi.json, with CORS like the rest of /api.
- Every route under /api/v1, /api/v2 and /oauth (and the OAuth metadata) is described with each
  of its methods, and nothing described is missing from the app: an endpoint added without its
  description fails here, naming the method and path.
- The scope each endpoint asks for (`auth.scoped`) is the scope described, and the refusals of
  `scoped` (401, 403, 422) are among its described answers.
- schemathesis (tests/web/mastodon/test_openapi_fuzz.py) sends what the description allows and
  more, and checks the answers against it.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import httpx
from starlette.routing import Route

from talentfed.config import load_config
from talentfed.domain.oauth import KNOWN_SCOPES
from talentfed.web.app import create_app
from talentfed.web.mastodon.instance import VERSION
from talentfed.web.mastodon.openapi import description
from tests.support import write_config

DESCRIBED_PREFIXES = ("/api/v1/", "/api/v2/", "/oauth/")
METADATA = "/.well-known/oauth-authorization-server"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WHERE = "talentfed/web/mastodon/openapi.yaml"


def served_routes(tmp_path: Path) -> dict[tuple[str, str], Route]:
    """(METHOD, path) → route, for the client API's routes of the app the node runs. HEAD is
    left out: Starlette answers it for every GET."""
    config = load_config(write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/unused.db"), environ={})
    found: dict[tuple[str, str], Route] = {}
    for route in create_app(config).routes:
        if isinstance(route, Route) and (route.path.startswith(DESCRIBED_PREFIXES) or route.path == METADATA):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.setdefault((method, route.path), route)  # the first route answers
    return found


def described_operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in description()["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def scope_asked(route: Route) -> tuple[bool, str | None, bool]:
    """(behind `auth.scoped`, the scope it asks for, whether it wants a member's token)."""
    endpoint = route.endpoint
    if endpoint.__qualname__ != "scoped.<locals>.decorate.<locals>.wrapped":
        return False, None, False
    closure = inspect.getclosurevars(endpoint).nonlocals
    return True, closure["scope"], closure["user_required"]


async def test_the_node_serves_its_description(demo_client: httpx.AsyncClient) -> None:
    response = await demo_client.get("/api/v1/openapi.json", headers={"Origin": "https://elk.example"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == VERSION
    assert document == description()


Operation = tuple[str, str]  # (METHOD, path)


def drift(served: set[Operation], described: set[Operation]) -> list[str]:
    """What the description and the routes disagree on, one line each."""
    return [
        *(f"served but not described in {WHERE}: {m} {p}" for m, p in sorted(served - described)),
        *(f"described in {WHERE} but not served: {m} {p}" for m, p in sorted(described - served)),
    ]


def test_every_route_is_described_and_every_description_served(tmp_path: Path) -> None:
    problems = drift(set(served_routes(tmp_path)), set(described_operations()))
    assert not problems, "\n".join(problems)


def test_a_route_without_description_or_a_description_without_route_is_named() -> None:
    described = set(described_operations())
    added = ("GET", "/api/v1/not_described")
    gone = ("DELETE", "/api/v1/featured_tags/{id}")
    assert gone in described
    assert drift(described - {gone} | {added}, described) == [
        f"served but not described in {WHERE}: GET /api/v1/not_described",
        f"described in {WHERE} but not served: DELETE /api/v1/featured_tags/{{id}}",
    ]


def test_each_endpoint_is_described_with_the_scope_it_asks_for(tmp_path: Path) -> None:
    described = described_operations()
    problems = []
    for (method, path), route in sorted(served_routes(tmp_path).items()):
        operation = described.get((method, path))
        if operation is None:
            continue  # the test above names it
        security = operation.get("security", [])
        is_scoped, scope, user_required = scope_asked(route)
        wanted: list[dict[str, list[str]]] = [{"OAuth2": [scope] if scope else []}]
        if is_scoped and security != wanted:
            problems.append(f"{method} {path}: security should be {wanted}, as its auth.scoped asks")
        elif not is_scoped and security and {} not in security:
            problems.append(f"{method} {path}: anyone may call it, so its security should include {{}}")
        refusals = {"401"} | ({"403"} if scope else set()) | ({"422"} if user_required else set())
        missing = sorted(refusals - set(operation["responses"])) if is_scoped else []
        if missing:
            problems.append(f"{method} {path}: auth.scoped may answer {', '.join(missing)}, not described")
    assert not problems, "\n".join(problems)


def test_the_described_scopes_are_the_known_scopes() -> None:
    flows = description()["components"]["securitySchemes"]["OAuth2"]["flows"]
    for flow in flows.values():
        assert list(flow["scopes"]) == list(KNOWN_SCOPES)
