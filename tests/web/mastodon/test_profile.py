"""`PATCH /api/v1/accounts/update_credentials` through domain/members.update_profile, as the web's
profile form: each field changes, followers' servers get an Update; refusals name the field;
pictures that are not pictures are refused. And the member's skills as featured tags."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Actor
from tests.web.mastodon.test_oauth import bearer, member_token, register

UPDATE = "/api/v1/accounts/update_credentials"


async def _auth(client: httpx.AsyncClient, scope: str = "read write") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def _updates_sent(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        ada = await session.scalar(select(Actor.uri).where(Actor.username == "ada", Actor.local.is_(True)))
        query = select(func.count()).select_from(Activity)
        return int(
            await session.scalar(query.where(Activity.type == "Update", Activity.actor_uri == ada)) or 0
        )


async def test_form_fields_change_the_profile_and_federate(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _auth(demo_client)
    before = await _updates_sent(engine)
    form = {
        "display_name": "Ada O.",
        "note": "I build **speech** systems.",
        "locked": "true",
        "discoverable": "false",
        "indexable": "0",
        "fields_attributes[1][name]": "Lab",
        "fields_attributes[1][value]": "https://lab.example",
        "fields_attributes[0][name]": "ORCID",
        "fields_attributes[0][value]": "0000-0001",
        "fields_attributes[2][name]": "",
        "fields_attributes[2][value]": "",
    }
    changed = await demo_client.patch(UPDATE, data=form, headers=auth)
    assert changed.status_code == 200, changed.text
    me = changed.json()
    assert me["display_name"] == "Ada O." and me["locked"] is True
    assert me["discoverable"] is False and me["indexable"] is False
    assert "<strong>speech</strong>" in me["note"] and me["source"]["note"] == "I build **speech** systems."
    assert [(f["name"], f["value"]) for f in me["fields"]] == [
        ("ORCID", "0000-0001"),
        ("Lab", "https://lab.example"),
    ]
    assert await _updates_sent(engine) == before + 1
    verified = await demo_client.get("/api/v1/accounts/verify_credentials", headers=auth)
    assert verified.json() == me


async def test_json_fields_and_clearing_the_note(demo_client: httpx.AsyncClient) -> None:
    auth = await _auth(demo_client)
    body = {
        "note": "",
        "locked": False,
        "fields_attributes": [{"name": "Web", "value": "https://ada.example"}],
    }
    changed = await demo_client.patch(UPDATE, json=body, headers=auth)
    assert changed.status_code == 200, changed.text
    me = changed.json()
    assert me["note"] == "" and me["source"]["note"] == "" and me["locked"] is False
    assert me["fields"][0]["name"] == "Web"
    as_object = {"fields_attributes": {"0": {"name": "Blog", "value": "b"}}}
    assert (await demo_client.patch(UPDATE, json=as_object, headers=auth)).json()["fields"][0][
        "name"
    ] == "Blog"
    cleared = await demo_client.patch(UPDATE, json={"fields_attributes": []}, headers=auth)
    assert cleared.json()["fields"] == []
    assert (await demo_client.patch(UPDATE, json={}, headers=auth)).json()["display_name"] == "Ada Okafor"


async def test_refusals_name_the_field(demo_client: httpx.AsyncClient) -> None:
    auth = await _auth(demo_client)
    cases = [
        ({"data": {"display_name": "  "}}, "display name"),
        ({"data": {"locked": "maybe"}}, "locked"),
        (
            {"data": {"avatar": "https://pictures.example/me.png"}},
            "avatar: expected a picture, sent as a file",
        ),
        ({"files": {"header": ("h.png", b"\x89PNG", "image/png")}}, "header: not a picture we accept"),
        ({"files": {"avatar": ("a.mp4", b"\0\0\0\x18ftypmp42", "video/mp4")}}, "avatar: video and audio"),
        ({"json": {"fields_attributes": [{"name": str(i), "value": "v"} for i in range(9)]}}, "fields"),
    ]
    for request, says in cases:
        refused = await demo_client.patch(UPDATE, headers=auth, **request)  # type: ignore[arg-type]
        assert refused.status_code == 422, (request, refused.text)
        assert refused.json()["error"].startswith("Validation failed: ") and says in refused.json()["error"]


async def test_tokens_and_scopes(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.patch(UPDATE, data={"display_name": "X"})).status_code == 401
    read_only = await demo_client.patch(
        UPDATE, data={"display_name": "X"}, headers=await _auth(demo_client, "read")
    )
    assert read_only.status_code == 403
    assert (await demo_client.get("/api/v1/featured_tags")).status_code == 401


async def test_featured_tags_are_the_members_skills(demo_client: httpx.AsyncClient) -> None:
    tags = await demo_client.get("/api/v1/featured_tags", headers=await _auth(demo_client))
    assert tags.status_code == 200
    assert [t["name"] for t in tags.json()] == ["MachineLearning", "SpeechRecognition", "Python"]
    assert (
        tags.json()[0]["url"].endswith("/tags/machinelearning") and tags.json()[0]["id"] == "MachineLearning"
    )
