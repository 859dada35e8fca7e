"""Featured tags are the member's skills: adding and removing one goes through
domain/members (add_skill, remove_skill → update_profile, so followers get an Update) within the
vocabulary's limits; suggestions are the tags of the member's latest posts; anyone may read an
account's featured tags. Bad names are 422 on both back-ends, never a 500."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.members import MAX_SKILLS, ProfileChanges, find_local_actor, update_profile
from talentfed.storage.db import session_factory
from tests.web.mastodon.test_profile import _auth, _updates_sent
from tests.web.test_pages import field_error, form_post

FEATURED = "/api/v1/featured_tags"
ADA_SKILLS = ["MachineLearning", "SpeechRecognition", "Python"]


async def _names(client: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    answer = await client.get(FEATURED, headers=auth)
    assert answer.status_code == 200, answer.text
    return [featured["name"] for featured in answer.json()]


async def _ada_id(client: httpx.AsyncClient) -> str:
    return str((await client.get("/api/v1/accounts/lookup", params={"acct": "ada"})).json()["id"])


async def test_adding_a_tag_adds_a_skill_and_federates(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _auth(demo_client)
    before = await _updates_sent(engine)
    added = await demo_client.post(FEATURED, data={"name": "#DataScience"}, headers=auth)
    assert added.status_code == 200, added.text
    assert added.json() == {
        "id": "DataScience",
        "name": "DataScience",
        "url": f"{demo_client.base_url}/tags/datascience",
        "statuses_count": 0,
        "last_status_at": None,
    }
    by_json = await demo_client.post(FEATURED, json={"name": "deep-learning"}, headers=auth)
    assert by_json.status_code == 200 and by_json.json()["name"] == "DeepLearning"
    assert await _names(demo_client, auth) == [*ADA_SKILLS, "DataScience", "DeepLearning"]
    assert await _updates_sent(engine) == before + 2
    profile = await demo_client.get("/api/v1/accounts/verify_credentials", headers=auth)
    assert profile.status_code == 200


BAD_NAMES = [
    ({"data": {}}, "name: can't be blank"),
    ({"data": {"name": ""}}, "name: can't be blank"),
    ({"data": {"name": "   "}}, "expected a skill or hashtag name"),
    ({"data": {"name": "#"}}, "expected a skill or hashtag name"),
    ({"data": {"name": "- _ -"}}, "expected a skill or hashtag name"),
    ({"data": {"name": "x" * 101}}, "at most 100 characters"),
    # text PostgreSQL cannot store is refused where the body is read (params.py), naming the field
    ({"data": {"name": "a\x00b"}}, "name: a NUL character"),
    ({"content": b'{"name": "a\\u0000b"}'}, "name: a NUL character"),
    ({"content": b'{"name": "\\ud800"}'}, "name: an unpaired surrogate"),
    ({"data": {"name": "machine_learning"}}, "already one of your skills"),
    ({"data": {"name": ["one", "two"]}}, "given more than once"),
    ({"json": {"name": {"nested": "x"}}}, "name: can't be blank"),  # read as name[nested]
    ({"json": {"name": [1.5]}}, "expected a string"),
    ({"content": b"{not json"}, "not JSON"),
]


@pytest.mark.parametrize(("request_args", "says"), BAD_NAMES)
async def test_bad_names_are_422_and_change_nothing(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, request_args: dict, says: str
) -> None:
    auth = await _auth(demo_client)
    headers = {**auth, "Content-Type": "application/json"} if "content" in request_args else auth
    before = await _updates_sent(engine)
    refused = await demo_client.post(FEATURED, headers=headers, **request_args)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"].startswith("Validation failed: ") and says in refused.json()["error"]
    assert await _names(demo_client, auth) == ADA_SKILLS
    assert await _updates_sent(engine) == before


async def test_no_more_tags_than_the_skills_limit(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    auth = await _auth(demo_client)
    assert MAX_SKILLS is not None
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        assert ada is not None
        full = tuple(f"skill {number}" for number in range(MAX_SKILLS))
        await update_profile(session, config, ada, ProfileChanges(skills=full))
    refused = await demo_client.post(FEATURED, data={"name": "one more"}, headers=auth)
    assert refused.status_code == 422 and f"at most {MAX_SKILLS}" in refused.json()["error"]
    assert len(await _names(demo_client, auth)) == MAX_SKILLS
    instance = (await demo_client.get("/api/v2/instance")).json()
    assert instance["configuration"]["accounts"]["max_featured_tags"] == MAX_SKILLS


async def test_the_profile_form_keeps_the_same_limits(demo_client: httpx.AsyncClient) -> None:
    await _auth(demo_client)  # ada is signed in now
    refused = await form_post(
        demo_client, "/settings/profile", "/settings/profile", {"display_name": "Ada", "skills": "x" * 101}
    )
    assert refused.status_code == 400 and "at most 100 characters" in field_error(refused.text, "skills")


async def test_removing_a_tag_removes_the_skill(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    auth = await _auth(demo_client)
    before = await _updates_sent(engine)
    removed = await demo_client.delete(f"{FEATURED}/MachineLearning", headers=auth)
    assert removed.status_code == 200 and removed.json() == {}
    assert await _names(demo_client, auth) == ["SpeechRecognition", "Python"]
    assert await _updates_sent(engine) == before + 1
    spelled_otherwise = await demo_client.delete(f"{FEATURED}/speech%20recognition", headers=auth)
    assert spelled_otherwise.status_code == 200
    for absent in ("MachineLearning", "Nothing", "%00", "x" * 5000, "%F0%9F%98%80"):
        gone = await demo_client.delete(f"{FEATURED}/{absent}", headers=auth)
        assert gone.status_code == 404 and gone.json() == {"error": "Record not found"}, absent
    assert await _names(demo_client, auth) == ["Python"]


async def test_suggestions_are_recent_tags_not_featured(demo_client: httpx.AsyncClient) -> None:
    auth = await _auth(demo_client)
    suggested = await demo_client.get(f"{FEATURED}/suggestions", headers=auth)
    assert suggested.status_code == 200, suggested.text
    # ada's demo posts: the article's and the project call's tags and skills, less her skills
    assert sorted(tag["name"] for tag in suggested.json()) == ["DataEngineering", "Swahili"]
    assert all(tag["history"] == [] and tag["url"].endswith(tag["name"].lower()) for tag in suggested.json())
    await demo_client.delete(f"{FEATURED}/MachineLearning", headers=auth)
    again = await demo_client.get(f"{FEATURED}/suggestions", headers=auth)
    assert "MachineLearning" in [tag["name"] for tag in again.json()]


async def test_anyone_reads_an_accounts_featured_tags(demo_client: httpx.AsyncClient) -> None:
    ada = await _ada_id(demo_client)
    public = await demo_client.get(f"/api/v1/accounts/{ada}/featured_tags")
    assert public.status_code == 200
    assert [featured["name"] for featured in public.json()] == ADA_SKILLS
    for unknown in ("999999", "abc", "9" * 40, "-1"):
        missing = await demo_client.get(f"/api/v1/accounts/{unknown}/featured_tags")
        assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}, unknown


async def test_tokens_and_scopes(demo_client: httpx.AsyncClient) -> None:
    for method, path in (
        ("POST", FEATURED),
        ("DELETE", f"{FEATURED}/Python"),
        ("GET", f"{FEATURED}/suggestions"),
    ):
        assert (await demo_client.request(method, path)).status_code == 401
    read_only = await _auth(demo_client, "read")
    assert (await demo_client.post(FEATURED, data={"name": "Rust"}, headers=read_only)).status_code == 403
    assert (await demo_client.delete(f"{FEATURED}/Python", headers=read_only)).status_code == 403
    assert (await demo_client.get(f"{FEATURED}/suggestions", headers=read_only)).status_code == 200
    write_only = await _auth(demo_client, "write:accounts")
    assert (await demo_client.get(f"{FEATURED}/suggestions", headers=write_only)).status_code == 403
