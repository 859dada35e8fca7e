"""Read markers (`/api/v1/markers`) as Mastodon keeps them: per member and timeline, a version
that grows with each change, form and JSON bodies; what is not a status or notification id is
refused (422) before anything is written; the scopes Mastodon asks for. Web Push answers as a
Mastodon server answers a token without a subscription."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain import oauth
from talentfed.domain.notifications import FOLLOWS, REACTIONS, NotificationKey
from talentfed.storage.db import session_factory
from talentfed.storage.models import User
from tests.web.mastodon.test_oauth import REDIRECT, bearer, member_token, register, token_request

NOTIFICATION = NotificationKey(datetime(2031, 1, 1, 12, 0, tzinfo=UTC), REACTIONS, 7).id
LATER = NotificationKey(datetime(2031, 1, 2, 8, 30, tzinfo=UTC), FOLLOWS, 12).id


async def _token(client: httpx.AsyncClient, scope: str = "read write") -> dict[str, str]:
    app = await register(client, scopes="read write follow push")
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def token_of(client: httpx.AsyncClient, engine: AsyncEngine, username: str) -> dict[str, str]:
    """A `read write` token of another member than ada (whose browser session the client holds)."""
    app = await register(client)
    async with session_factory(engine)() as session, session.begin():
        application = await oauth.find_application(session, app["client_id"])
        user = await session.scalar(select(User).where(User.username == username))
        assert user is not None
        asked = oauth.authorization_request(
            application,
            REDIRECT,
            response_type="code",
            scope="read write",
            code_challenge=None,
            code_challenge_method=None,
        )
        code = await oauth.issue_code(session, asked, user)
    issued = await token_request(
        client, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert issued.status_code == 200, issued.text
    return bearer(issued.json()["access_token"])


async def _markers(client: httpx.AsyncClient, auth: dict[str, str], *timelines: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/markers", params=[("timeline[]", name) for name in timelines], headers=auth
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_save_and_read_with_versions(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    assert await _markers(demo_client, auth, "home", "notifications") == {}
    assert await _markers(demo_client, auth) == {}  # none asked for

    form = await demo_client.post("/api/v1/markers", data={"home[last_read_id]": "103"}, headers=auth)
    assert form.status_code == 200, form.text
    home = form.json()["home"]
    assert set(form.json()) == {"home"}
    assert home["last_read_id"] == "103" and home["version"] == 0
    assert home["updated_at"].endswith("Z") and len(home["updated_at"]) == len("2031-01-01T12:00:00.000Z")

    as_json = await demo_client.post(
        "/api/v1/markers",
        json={"home": {"last_read_id": 104}, "notifications": {"last_read_id": NOTIFICATION}},
        headers=auth,
    )
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["home"]["last_read_id"] == "104" and as_json.json()["home"]["version"] == 1
    assert as_json.json()["notifications"] == {**as_json.json()["notifications"], "version": 0}

    same = await demo_client.post("/api/v1/markers", data={"home[last_read_id]": "104"}, headers=auth)
    assert same.json()["home"]["version"] == 1  # nothing changed, as on Mastodon
    moved = await demo_client.post(
        "/api/v1/markers", data={"notifications[last_read_id]": LATER}, headers=auth
    )
    assert moved.json()["notifications"]["last_read_id"] == LATER
    assert moved.json()["notifications"]["version"] == 1

    both = await _markers(demo_client, auth, "home", "notifications", "lists")  # unknown: ignored
    assert both == {"home": same.json()["home"], "notifications": moved.json()["notifications"]}
    only = await demo_client.get("/api/v1/markers", params={"timeline": "home"}, headers=auth)
    assert set(only.json()) == {"home"}
    ignored = await demo_client.post("/api/v1/markers", data={"lists[last_read_id]": "1"}, headers=auth)
    assert ignored.status_code == 200 and ignored.json() == {}


async def test_each_member_has_their_own(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ada, grace = await _token(demo_client), await token_of(demo_client, engine, "grace")
    await demo_client.post("/api/v1/markers", data={"home[last_read_id]": "7"}, headers=ada)
    assert await _markers(demo_client, grace, "home") == {}
    saved = await demo_client.post("/api/v1/markers", data={"home[last_read_id]": "9"}, headers=grace)
    assert saved.json()["home"]["version"] == 0
    assert (await _markers(demo_client, ada, "home"))["home"]["last_read_id"] == "7"


BAD_POSITIONS = [
    {"home[last_read_id]": "abc"},
    {"home[last_read_id]": "-1"},
    {"home[last_read_id]": "9" * 19},  # beyond a BIGINT
    {"home[last_read_id]": "1\x00"},
    {"home[last_read_id]": "١٢"},  # digits, but not ASCII ones
    {"home[last_read_id]": ""},
    {"notifications[last_read_id]": "103"},  # a status id is no notification id
    {"notifications[last_read_id]": "9" * 40},
    {"notifications[last_read_id]": "x" * 5000},
]


async def test_bad_positions_are_refused_and_nothing_is_written(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    for bad in BAD_POSITIONS:
        refused = await demo_client.post(
            "/api/v1/markers", data={"home[last_read_id]": "5", **bad}, headers=auth
        )
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"].startswith("Validation failed: "), refused.text
    both_or_neither = await demo_client.post(
        "/api/v1/markers",
        data={"home[last_read_id]": "5", "notifications[last_read_id]": "5"},
        headers=auth,
    )
    assert both_or_neither.status_code == 422
    assert await _markers(demo_client, auth, "home", "notifications") == {}

    twice = await demo_client.post(
        "/api/v1/markers",
        content="home[last_read_id]=1&home[last_read_id]=2",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 422
    for body in (b"[1]", b"{", b'{"home": {"last_read_id": {"deep": {"er": 1}}}}'):
        not_json = await demo_client.post(
            "/api/v1/markers", content=body, headers={**auth, "Content-Type": "application/json"}
        )
        assert not_json.status_code == 422, not_json.text
    assert await _markers(demo_client, auth, "home", "notifications") == {}


async def test_scopes_and_tokens(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.get("/api/v1/markers")).status_code == 401
    assert (await demo_client.post("/api/v1/markers", data={"home[last_read_id]": "1"})).status_code == 401
    reader = await _token(demo_client, scope="read:statuses")
    assert (await demo_client.get("/api/v1/markers", headers=reader)).status_code == 200
    refused = await demo_client.post("/api/v1/markers", data={"home[last_read_id]": "1"}, headers=reader)
    assert refused.status_code == 403
    writer = await _token(demo_client, scope="write:statuses")
    assert (await demo_client.get("/api/v1/markers", headers=writer)).status_code == 403
    saved = await demo_client.post("/api/v1/markers", data={"home[last_read_id]": "1"}, headers=writer)
    assert saved.status_code == 200


async def test_web_push_is_not_offered(demo_client: httpx.AsyncClient) -> None:
    """As Mastodon answers a token without a subscription; subscribing is refused, so apps poll."""
    path = "/api/v1/push/subscription"
    assert (await demo_client.get(path)).status_code == 401
    without_push = await _token(demo_client, scope="read write")
    assert (await demo_client.get(path, headers=without_push)).status_code == 403
    auth = await _token(demo_client, scope="read write push")
    shown = await demo_client.get(path, headers=auth)
    assert shown.status_code == 404 and shown.json() == {"error": "Record not found"}
    assert (await demo_client.put(path, data={"policy": "all"}, headers=auth)).status_code == 404
    subscribing = await demo_client.post(
        path,
        data={"subscription[endpoint]": "https://push.example/x", "subscription[keys][p256dh]": "k"},
        headers=auth,
    )
    assert subscribing.status_code == 422
    assert subscribing.json() == {"error": "Validation failed: Web Push is not supported on this server"}
    removed = await demo_client.delete(path, headers=auth)
    assert removed.status_code == 200 and removed.json() == {}
