"""Moving accounts in the browser, between two members of one node (the demo's ada and grace):
the alias, the move, what the profile, the actor documents and the client API show, and posting
refused afterwards everywhere (form, JSON API, client API). Other nodes: tests/multinode."""

from __future__ import annotations

from html import unescape

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import follows
from talentfed.domain.members import find_local_actor, issue_api_token
from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Actor, Object
from tests.web.mastodon.test_posting import _token
from tests.web.test_pages import field_error, form_post, sign_in

AS_JSON = {"Accept": "application/activity+json"}


async def _actor_json(client: httpx.AsyncClient, username: str) -> dict:
    response = await client.get(f"/users/{username}", headers=AS_JSON)
    assert response.status_code == 200
    return response.json()


async def _moving_form(client: httpx.AsyncClient, **data: str) -> httpx.Response:
    return await form_post(client, "/settings/moving", "/settings/moving", data)


async def _follow(engine: AsyncEngine, config: Config, follower: str, followed: str) -> None:
    async with session_factory(engine)() as session, session.begin():
        one, other = await find_local_actor(session, follower), await find_local_actor(session, followed)
        await follows.follow(session, config, one, other)


async def _following(engine: AsyncEngine, username: str) -> set[str]:
    async with session_factory(engine)() as session:
        member = await find_local_actor(session, username)
        return {edge.actor.username for edge in await follows.following(session, member)}


async def _moved_to(engine: AsyncEngine, username: str) -> str | None:
    async with session_factory(engine)() as session:
        return await session.scalar(select(Actor.moved_to_uri).where(Actor.username == username))


async def test_ada_moves_to_grace_and_can_no_longer_post(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    ada, grace = f"{config.node.base_url}/users/ada", f"{config.node.base_url}/users/grace"
    await _follow(engine, config, "alan", "ada")

    # grace names ada as her old account, by handle.
    await sign_in(demo_client, "grace")
    added = await _moving_form(demo_client, action="add_alias", alias=f"@ada@{config.node.domain}")
    assert added.status_code == 303, added.text
    assert (await _actor_json(demo_client, "grace"))["alsoKnownAs"] == [ada]
    demo_client.cookies.clear()  # signed out

    # ada moves to grace.
    await sign_in(demo_client, "ada")
    moved = await _moving_form(demo_client, action="move", target=grace)
    assert moved.status_code == 303, moved.text
    assert (await _actor_json(demo_client, "ada"))["movedTo"] == grace
    assert await _following(engine, "alan") == {"grace"}
    profile = await demo_client.get("/users/ada")
    assert "has moved to" in profile.text and f'href="{config.node.base_url}/@grace"' in profile.text
    async with session_factory(engine)() as session:  # no remote follower: nothing to send
        assert await session.scalar(select(Activity.id).where(Activity.type == "Move")) is not None

    # Posting is refused, however it is tried.
    form = await form_post(demo_client, "/write/article", "/write/article", {"title": "T", "body": "B"})
    assert form.status_code == 400
    assert f"this account has moved to {grace}" in unescape(form.text)
    async with session_factory(engine)() as session, session.begin():
        token = await issue_api_token(session, "ada")
    api = await demo_client.post(
        "/api/talentfed/v1/posts",
        json={"kind": "note", "body": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 422 and api.json()["field"] == "account", api.text
    app_token = await _token(demo_client)
    status = await demo_client.post("/api/v1/statuses", json={"status": "still here?"}, headers=app_token)
    assert status.status_code == 422 and "has moved" in status.json()["error"], status.text
    async with session_factory(engine)() as session:
        count = await session.scalar(select(Object.id).where(Object.source.in_(["B", "x", "still here?"])))
    assert count is None

    # The client API's Account shows where she went.
    account = await demo_client.get("/api/v1/accounts/lookup", params={"acct": "ada"})
    assert account.json()["moved"]["acct"] == "grace"
    unmoved = await demo_client.get("/api/v1/accounts/lookup", params={"acct": "grace"})
    assert "moved" not in unmoved.json()


async def test_a_target_that_does_not_name_the_member_is_refused_and_nothing_changes(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    grace = f"{config.node.base_url}/users/grace"
    await _follow(engine, config, "alan", "ada")
    await sign_in(demo_client, "ada")

    refused = await _moving_form(demo_client, action="move", target=grace)

    assert refused.status_code == 400
    assert (
        field_error(refused.text, "target")
        == f"the target {grace} does not list {config.node.base_url}/users/ada in its alsoKnownAs"
    )
    assert await _moved_to(engine, "ada") is None
    assert "movedTo" not in await _actor_json(demo_client, "ada")
    assert await _following(engine, "alan") == {"ada"}


async def test_bad_aliases_and_targets_are_explained_next_to_the_field(
    demo_client: httpx.AsyncClient, config: Config
) -> None:
    await sign_in(demo_client, "ada")
    cases = [
        ({"action": "add_alias", "alias": ""}, "alias", "expected @user@domain or an actor URL"),
        (
            {"action": "add_alias", "alias": "@nobody@127.0.0.1:9"},
            "alias",
            "cannot find @nobody@127.0.0.1:9",
        ),
        ({"action": "add_alias", "alias": "not a handle"}, "alias", "cannot find not a handle"),
        (
            {"action": "add_alias", "alias": f"@ada@{config.node.domain}"},
            "alias",
            "an account is not an alias of itself",
        ),
        ({"action": "remove_alias", "uri": "https://x.example/u"}, "alias", "is not one of your aliases"),
        (
            {"action": "move", "target": f"@ada@{config.node.domain}"},
            "target",
            "an account cannot move to itself",
        ),
        ({"action": "move", "target": "x" * 5000}, "target", "cannot find"),
    ]
    for data, field, reason in cases:
        response = await _moving_form(demo_client, **data)
        assert response.status_code == 400, (data, response.text)
        assert reason in field_error(response.text, field), (data, field_error(response.text, field))
    unknown = await _moving_form(demo_client, action="explode")
    assert unknown.status_code == 400 and "expected add_alias" in field_error(unknown.text, "action")
    assert "alsoKnownAs" not in await _actor_json(demo_client, "ada")


async def test_aliases_are_capped_and_removed(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
):
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        ada.also_known_as = [f"https://old{n}.example/u" for n in range(10)]
    await sign_in(demo_client, "ada")

    over = await _moving_form(demo_client, action="add_alias", alias=f"@grace@{config.node.domain}")
    assert over.status_code == 400 and field_error(over.text, "alias") == "at most 10 aliases"
    removed = await _moving_form(demo_client, action="remove_alias", uri="https://old3.example/u")
    assert removed.status_code == 303
    published = (await _actor_json(demo_client, "ada"))["alsoKnownAs"]
    assert len(published) == 9 and "https://old3.example/u" not in published


async def test_the_moving_page_is_for_members_only(demo_client: httpx.AsyncClient) -> None:
    page = await demo_client.get("/settings/moving")
    assert page.status_code in (302, 303) and "/sign-in" in page.headers["location"]
    posted = await demo_client.post("/settings/moving", data={"action": "move", "target": "x"})
    assert posted.status_code in (302, 303, 403)
